//! flu-bench: how much slower than the bare tmpfs directory is a filesystem served by
//! flu (native passthrough, Lua-wrapped passthrough, pure-Lua passthrough) or by a peer
//! (mfusepy's loopback)? One run measures all targets, interleaved round-robin per
//! repetition so machine noise hits them alike, and reports medians and ratios to
//! native. Run it through `bench/run`, which builds what it needs.

mod cleanup;
mod peers;
mod report;
mod scale;
mod targets;
mod uring;
mod workloads;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use targets::{Kind, Target};
use workloads::{Sample, Sizes};

struct Opts {
    reps: usize,
    quick: bool,
    only: Option<Vec<String>>,
    repo: PathBuf,
    flu: Option<PathBuf>,
    work: Option<PathBuf>,
    doc: Option<PathBuf>,
    json: PathBuf,
    python: String,
    drop_caches: bool,
    /// Mount options for every FUSE target (`--options allow_other,default_permissions`).
    options: String,
    /// `--scale N`: run the scale workload with N files instead of the others.
    scale: Option<usize>,
}

const USAGE: &str =
    "usage: bench/run [--reps N] [--quick] [--targets a,b,…] [--options OPTS] [--no-doc]
                 [--doc FILE] [--work DIR] [--flu BIN] [--python PY] [--no-drop-caches]
targets: native flu-native flu-lua flu-compose flu-example flu-native-uring flu-lua-uring
         flu-luafs passthrough_ll bindfs mfusepy mfusepy-memory
--options: mount options every FUSE target gets (allow_other,default_permissions)
--scale N: instead of the workloads, create N files through each target, find them
           twice (warm, after drop_caches), report µs per create and RSS per node";

fn parse_args() -> Result<Opts, String> {
    let mut o = Opts {
        reps: 9,
        quick: false,
        only: None,
        repo: PathBuf::from("."),
        flu: None,
        work: None,
        doc: Some(PathBuf::from("docs/performance.md")),
        json: PathBuf::from("target/flu-bench/results.json"),
        python: "python3".into(),
        drop_caches: true,
        options: String::new(),
        scale: None,
    };
    let mut reps_given = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match a.as_str() {
            "--reps" => {
                o.reps = val("--reps")?
                    .parse()
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or("--reps takes a positive number")?;
                reps_given = true;
            }
            "--quick" => o.quick = true,
            "--targets" => {
                o.only = Some(val("--targets")?.split(',').map(str::to_string).collect())
            }
            "--repo" => o.repo = val("--repo")?.into(),
            "--flu" => o.flu = Some(val("--flu")?.into()),
            "--work" => o.work = Some(val("--work")?.into()),
            "--doc" => o.doc = Some(val("--doc")?.into()),
            "--no-doc" => o.doc = None,
            "--json" => o.json = val("--json")?.into(),
            "--python" => o.python = val("--python")?,
            "--no-drop-caches" => o.drop_caches = false,
            "--options" => o.options = val("--options")?,
            "--scale" => {
                o.scale = Some(
                    val("--scale")?
                        .parse()
                        .ok()
                        .filter(|n| *n >= 1)
                        .ok_or("--scale takes a number of files")?,
                )
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            _ => return Err(format!("unknown argument '{a}'\n{USAGE}")),
        }
    }
    if o.quick && !reps_given {
        o.reps = 1;
    }
    Ok(o)
}

pub(crate) fn cmd_output(cmd: &mut Command) -> Option<String> {
    let out = cmd.output().ok()?;
    let s = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let s = if s.is_empty() {
        String::from_utf8_lossy(&out.stderr).trim().to_string()
    } else {
        s
    };
    (out.status.success() && !s.is_empty()).then_some(s)
}

fn lua_script(work: &Path, name: &str, body: &str) -> Result<PathBuf, String> {
    let p = work.join(format!("{name}.lua"));
    std::fs::write(&p, body).map_err(|e| format!("{}: {e}", p.display()))?;
    Ok(p)
}

/// flu serving one of the repository's examples, if this tree has it.
fn example_target(
    o: &Opts,
    file: &str,
    name: &str,
    what: &str,
    in_memory: bool,
) -> Result<Option<Target>, String> {
    let path = o.repo.join("examples").join(file);
    if !path.exists() {
        return Ok(None);
    }
    let script = std::fs::canonicalize(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(Some(Target {
        name: name.into(),
        what: what.into(),
        kind: Kind::Flu {
            script,
            subdir: None,
            own_options: "",
        },
        options: String::new(),
        in_memory,
        skips: Vec::new(),
    }))
}

/// All targets that can run here, and notes on those that cannot.
fn targets(o: &Opts, work: &Path, notes: &mut Vec<String>) -> Result<Vec<Target>, String> {
    let mut t = vec![Target {
        name: "native".into(),
        what: "the backing tmpfs directory itself, no FUSE".into(),
        kind: Kind::Native,
        options: String::new(),
        in_memory: false,
        skips: Vec::new(),
    }];
    let native = lua_script(
        work,
        "flu-native",
        "return require('flu').passthrough(...)\n",
    )?;
    t.push(Target {
        name: "flu-native".into(),
        what:
            "flu, `return require('flu').passthrough(...)`: the Rust passthrough, no Lua per call"
                .into(),
        kind: Kind::Flu {
            script: native,
            subdir: None,
            own_options: "",
        },
        options: String::new(),
        in_memory: false,
        skips: Vec::new(),
    });
    let wrapped = lua_script(
        work,
        "flu-lua",
        "local base = require('flu').passthrough(...)\n\
         local fs = {}\n\
         for k, f in pairs(base) do fs[k] = function(...) return f(...) end end\n\
         return fs\n",
    )?;
    t.push(Target {
        name: "flu-lua".into(),
        what: "flu, every passthrough handler overridden by a Lua function calling the original"
            .into(),
        kind: Kind::Flu {
            script: wrapped,
            subdir: None,
            own_options: "",
        },
        options: String::new(),
        in_memory: false,
        skips: Vec::new(),
    });
    let composed = lua_script(
        work,
        "flu-compose",
        "local flu = require('flu')\n\
         local DIR = tonumber('40755', 8)\n\
         local root = {}\n\
         function root.getattr(path) if path == '/' then return {mode = DIR} end error(flu.errno.ENOENT) end\n\
         function root.readdir(path, filler) filler('.') filler('..') end\n\
         return flu.compose{['/'] = root, ['/real'] = flu.passthrough(...)}\n",
    )?;
    t.push(Target {
        name: "flu-compose".into(),
        what: "flu, `flu.compose{['/'] = a Lua table, ['/real'] = flu.passthrough(...)}`; the workloads run in `/real`"
            .into(),
        kind: Kind::Flu {
            script: composed,
            subdir: Some("real"),
            own_options: "",
        },
        options: String::new(),
        in_memory: false,
        skips: Vec::new(),
    });
    for (file, name, what, in_memory) in [
        (
            "passthrough.lua",
            "flu-example",
            "flu, `examples/passthrough.lua`: a pure-Lua passthrough on the `fs` module",
            false,
        ),
        (
            "luafs.lua",
            "flu-luafs",
            "flu, `examples/luafs.lua`: a filesystem kept in Lua tables, no backing \
             directory (its peer: mfusepy-memory)",
            true,
        ),
    ] {
        match example_target(o, file, name, what, in_memory)? {
            Some(target) => t.push(target),
            None => notes.push(format!(
                "{name} skipped: examples/{file} does not exist in this tree."
            )),
        }
    }
    match uring::enable() {
        Ok(()) => {
            for (name, base) in [
                ("flu-native-uring", "flu-native"),
                ("flu-lua-uring", "flu-lua"),
            ] {
                let Some(Kind::Flu { script, .. }) =
                    t.iter().find(|x| x.name == base).map(|x| x.kind.clone())
                else {
                    continue;
                };
                t.push(Target {
                    name: name.into(),
                    what: format!("{base} with `-o io_uring`: requests over FUSE over io_uring"),
                    kind: Kind::Flu {
                        script,
                        subdir: None,
                        own_options: "io_uring",
                    },
                    options: String::new(),
                    in_memory: false,
                    skips: Vec::new(),
                });
            }
        }
        Err(why) => notes.push(format!(
            "flu-native-uring and flu-lua-uring skipped: {why}."
        )),
    }
    t.extend(peers::all(&o.repo, &o.python, work, notes)?);
    for target in t.iter_mut() {
        if !matches!(target.kind, Kind::Native) {
            target.options = o.options.clone();
        }
    }
    if let Some(only) = &o.only {
        for n in only {
            if !t.iter().any(|x| &x.name == n) && !notes.iter().any(|x| x.starts_with(n.as_str())) {
                return Err(format!("unknown target '{n}'\n{USAGE}"));
            }
        }
        t.retain(|x| x.name == "native" || only.contains(&x.name));
    }
    Ok(t)
}

/// results[target][workload] = samples; errors[target][workload] = last error;
/// skipped[target][workload] = why the target does not run it.
pub struct Results {
    pub samples: Vec<Vec<Vec<Sample>>>,
    pub errors: Vec<Vec<Option<String>>>,
    pub skipped: Vec<Vec<Option<&'static str>>>,
}

fn main() {
    let o = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("flu-bench: {e}");
            std::process::exit(2);
        }
    };
    cleanup::install_signal_thread();
    cleanup::start_watchdog();
    let result = std::panic::catch_unwind(|| run(&o));
    cleanup::cleanup_all();
    match result {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            eprintln!("flu-bench: {e}");
            std::process::exit(1);
        }
        Err(_) => std::process::exit(101),
    }
}

fn run(o: &Opts) -> Result<(), String> {
    if !o.repo.join("daemon").is_dir() || !o.repo.join("flu-api").is_dir() {
        return Err("run from the repository root (bench/run does)".into());
    }
    let flu = match &o.flu {
        Some(p) => p.clone(),
        None => o.repo.join("target/release/flu"),
    };
    let flu = std::fs::canonicalize(&flu)
        .map_err(|e| format!("{}: {e} (cargo build --release -p flu)", flu.display()))?;
    let work = o
        .work
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("/dev/shm/flu-bench-{}", std::process::id())));
    if work.exists() {
        return Err(format!(
            "{} exists; remove it or pick another --work",
            work.display()
        ));
    }
    std::fs::create_dir_all(work.join("logs")).map_err(|e| format!("{}: {e}", work.display()))?;
    cleanup::set_work_dir(&work);
    let work = std::fs::canonicalize(&work).map_err(|e| e.to_string())?;

    let mut notes = vec![if o.options.is_empty() {
        "Mount options: none given; every FUSE target runs with its own defaults.".to_string()
    } else {
        format!(
            "Mount options: every FUSE target gets `-o {}` (flu, passthrough_ll, bindfs: on \
             their command line; mfusepy: as keyword arguments).",
            o.options
        )
    }];
    let targets = targets(o, &work, &mut notes)?;
    if let Some(n) = o.scale {
        print!("{}", scale::run(&targets, &work, &flu, n));
        for note in &notes {
            println!("\n- {note}");
        }
        return Ok(());
    }
    let mut sizes = if o.quick {
        Sizes::quick()
    } else {
        Sizes::full()
    };

    // The tree for untar/find/grep/rm -r, tarred once: /usr/include (as the C
    // references are usually measured), or flu's own sources for --quick runs and
    // machines without it.
    let tarball = work.join("src.tar");
    let mut tar = Command::new("tar");
    tar.arg("-cf").arg(&tarball);
    if !o.quick && Path::new("/usr/include").is_dir() {
        tar.args(["-C", "/usr", "include"]);
        sizes.tree_name = "/usr/include".into();
    } else {
        tar.arg("-C")
            .arg(&o.repo)
            .args(["flu-api/src", "daemon/src"]);
        sizes.tree_name = "flu-api/src + daemon/src".into();
    }
    let ok = tar.status().map(|s| s.success()).unwrap_or(false);
    if !ok {
        return Err(format!("cannot tar {}", sizes.tree_name));
    }
    let tree_entries = cmd_output(Command::new("tar").arg("-tf").arg(&tarball))
        .map(|s| s.lines().count())
        .unwrap_or(0);

    let drop_caches = o.drop_caches && workloads::drop_page_cache();
    if o.drop_caches && !drop_caches {
        notes.push(
            "Could not write /proc/sys/vm/drop_caches: seq-read and rand-read open the file afresh \
             (FUSE drops a file's page cache on open unless the daemon sets keep_cache), but the \
             kernel's caches are otherwise warm."
                .into(),
        );
    }

    let info = report::RunInfo::collect(o.reps, &o.repo);
    eprintln!(
        "flu-bench: {} targets × {} workloads × {} repetitions in {}",
        targets.len(),
        workloads::ALL.len(),
        o.reps,
        work.display()
    );
    let started = Instant::now();
    let nt = targets.len();
    let nw = workloads::ALL.len();
    let mut res = Results {
        samples: vec![vec![Vec::new(); nw]; nt],
        errors: vec![vec![None; nw]; nt],
        skipped: vec![vec![None; nw]; nt],
    };
    for rep in 0..o.reps {
        // Round-robin: every target once per repetition, starting with a different one
        // each time; each gets a fresh mount and runs the workloads in order, as a user
        // would (so cache timeouts see the same gaps on every target).
        for ti in (0..nt).map(|i| (i + rep) % nt) {
            let m = match targets[ti].mount(&work, &flu, rep) {
                Ok(m) => m,
                Err(e) => {
                    eprintln!("flu-bench: {e}");
                    for slot in res.errors[ti].iter_mut() {
                        *slot = Some(e.clone());
                    }
                    continue;
                }
            };
            for (wi, &id) in workloads::ALL.iter().enumerate() {
                if let Some(why) = targets[ti].skip_reason(id) {
                    res.skipped[ti][wi] = Some(why);
                    continue;
                }
                let ctx = workloads::Ctx {
                    sizes: &sizes,
                    dir: &m.dir,
                    prep: &m.prep,
                    in_memory: targets[ti].in_memory,
                    tarball: &tarball,
                    tree_entries,
                    drop_caches,
                };
                let r =
                    cleanup::with_deadline(m.mountpoint.as_deref(), workloads::DEADLINE, || {
                        workloads::run(id, &ctx)
                    });
                match r {
                    Ok(s) => res.samples[ti][wi].push(s),
                    Err(e) => {
                        eprintln!("flu-bench: {} {}: {e}", targets[ti].name, id.key());
                        res.errors[ti][wi] = Some(e);
                        workloads::reset(&m.dir);
                    }
                }
            }
            if let Some(note) = m.unmount() {
                notes.push(note);
            }
        }
        eprintln!(
            "flu-bench: repetition {}/{} done ({:.0} s)",
            rep + 1,
            o.reps,
            started.elapsed().as_secs_f64()
        );
    }
    let info = info.finish(started.elapsed().as_secs_f64());
    let rep = report::Report {
        info: &info,
        targets: &targets,
        sizes: &sizes,
        tree_entries,
        res: &res,
        notes: &notes,
        drop_caches,
    };
    print!("{}", rep.tables());
    std::fs::create_dir_all(o.json.parent().unwrap_or(Path::new(".")))
        .map_err(|e| e.to_string())?;
    std::fs::write(&o.json, rep.json()).map_err(|e| format!("{}: {e}", o.json.display()))?;
    if let Some(doc) = &o.doc {
        let png = doc.with_extension("png");
        let chart = Command::new(&o.python)
            .arg(o.repo.join("bench/chart.py"))
            .arg(&o.json)
            .arg(&png)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !chart {
            return Err(format!(
                "the chart {} could not be drawn (pip install matplotlib); {} not written",
                png.display(),
                doc.display()
            ));
        }
        rep.write_doc(doc)?;
        eprintln!("flu-bench: wrote {} and {}", doc.display(), png.display());
    }
    Ok(())
}
