# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_flu_global_optspecs
    string join \n h/help V/version
end

function __fish_flu_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_flu_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_flu_using_subcommand
    set -l cmd (__fish_flu_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c flu -n "__fish_flu_needs_command" -s h -l help -d 'Print help'
complete -c flu -n "__fish_flu_needs_command" -s V -l version -d 'Print version'
complete -c flu -n "__fish_flu_needs_command" -f -a "mount" -d 'Mount the filesystem a Lua script defines, and serve it in the background'
complete -c flu -n "__fish_flu_needs_command" -f -a "unmount" -d 'Unmount a flu (or any FUSE) mount: the same as `fusermount3 -u DIR`'
complete -c flu -n "__fish_flu_needs_command" -f -a "stats" -d 'Show the numbers of a mount: nodes, open files, threads, Lua memory, handler timeouts, and per operation requests, errors by errno and latency percentiles'
complete -c flu -n "__fish_flu_needs_command" -f -a "list" -d 'List the running flu mounts of this user: mountpoint, daemon pid, uptime, script'
complete -c flu -n "__fish_flu_needs_command" -f -a "reload" -d 'Load a mounted script again and switch to its handlers without unmounting (flu.state and open files are kept; a script that fails to load changes nothing)'
complete -c flu -n "__fish_flu_needs_command" -f -a "test" -d 'Mount a script in a temporary directory, run a conformance battery chosen from its handlers, print the results and unmount (exit 1 when a check fails)'
complete -c flu -n "__fish_flu_needs_command" -f -a "check" -d 'Load a script without mounting and report what is wrong with it: unknown or misspelled handler names, handlers that are no functions, and what getattr(\'/\') and readdir(\'/\') return. Exits 1 on any error (warnings alone: 0)'
complete -c flu -n "__fish_flu_needs_command" -f -a "types" -d 'Write flu\'s LuaLS annotations (the flu and fs modules, handlers, stat tables, fi, modes, errno) into DIR/.flu-types/, and a .luarc.json in DIR that uses them'
complete -c flu -n "__fish_flu_needs_command" -f -a "run" -d 'Run a script as `lua` would, with `flu` and `fs` requirable; `flu.main(argv, fs)` mounts as Flu scripts expect'
complete -c flu -n "__fish_flu_needs_command" -f -a "completions" -d 'Print a shell completion script for bash, zsh or fish'
complete -c flu -n "__fish_flu_needs_command" -f -a "man" -d 'Print flu\'s manual page (roff), or write a page per subcommand into a directory'
complete -c flu -n "__fish_flu_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c flu -n "__fish_flu_using_subcommand mount" -s o -d 'Mount options, comma separated (ro, allow_other, uid=, umask=, attr_timeout=, …); may be repeated. `-o help` lists them all with their defaults' -r
complete -c flu -n "__fish_flu_using_subcommand mount" -l threads -d 'Threads kept serving requests (default: the CPUs, between 2 and 8; more start while requests wait in the kernel\'s queue, and leave when it is empty). Lua calls are serialized; native passthrough work runs in parallel' -r
complete -c flu -n "__fish_flu_using_subcommand mount" -l handler-timeout -d 'Interrupt a handler that runs Lua code longer than SECS seconds (the caller gets EIO); 0 never interrupts. Default 30. A caller interrupted by a signal gets EINTR at once, whatever the timeout' -r
complete -c flu -n "__fish_flu_using_subcommand mount" -l max-pending -d 'How many Lua calls may be under way at once: running, waiting for the Lua lock, or waiting for slow work (flu.sleep, flu.exec, flu.http give the lock up while they wait); beyond it, new requests wait for one to finish. Default 256' -r
complete -c flu -n "__fish_flu_using_subcommand mount" -l pid-file -d 'Write the daemon\'s process id to FILE once mounted (checked before mounting: an unwritable FILE fails the mount)' -r -F
complete -c flu -n "__fish_flu_using_subcommand mount" -l lua-memory-limit -d 'The most memory the script\'s Lua state may use (bytes, or with a K, M or G suffix, powers of 1024: 512M); a handler call that needs more fails with ENOMEM. 0: no limit. Default 1G' -r
complete -c flu -n "__fish_flu_using_subcommand mount" -l log-level -d 'Log level: error, warn, info, debug or trace (default info)' -r
complete -c flu -n "__fish_flu_using_subcommand mount" -l log-file -d 'Write the daemon\'s log (and the script\'s output) to FILE' -r -F
complete -c flu -n "__fish_flu_using_subcommand mount" -s f -l foreground -d 'Stay in the foreground'
complete -c flu -n "__fish_flu_using_subcommand mount" -s d -l debug -d 'Log every operation with its arguments, result and latency; implies -f, as in libfuse (a detached daemon\'s output would go to its log, not your terminal)'
complete -c flu -n "__fish_flu_using_subcommand mount" -s s -d 'Serve on one thread'
complete -c flu -n "__fish_flu_using_subcommand mount" -l watch -d 'Reload the script when it, or a module it loaded from its own directory, changes on disk (as `flu reload DIR` would)'
complete -c flu -n "__fish_flu_using_subcommand mount" -s v -l verbose -d 'More log output (-v debug, -vv trace)'
complete -c flu -n "__fish_flu_using_subcommand mount" -s h -l help -d 'Print help'
complete -c flu -n "__fish_flu_using_subcommand unmount" -s z -l lazy -d 'Detach now even if busy (lazy unmount)'
complete -c flu -n "__fish_flu_using_subcommand unmount" -s h -l help -d 'Print help'
complete -c flu -n "__fish_flu_using_subcommand stats" -l json -d 'Print the daemon\'s JSON answer as it is'
complete -c flu -n "__fish_flu_using_subcommand stats" -s h -l help -d 'Print help'
complete -c flu -n "__fish_flu_using_subcommand list" -l json -d 'Print a JSON array of the mounts'
complete -c flu -n "__fish_flu_using_subcommand list" -s h -l help -d 'Print help'
complete -c flu -n "__fish_flu_using_subcommand reload" -s h -l help -d 'Print help'
complete -c flu -n "__fish_flu_using_subcommand test" -l timeout -d 'Give up on a check after SECS seconds (it fails, the rest are not run, and the mount is still unmounted)' -r
complete -c flu -n "__fish_flu_using_subcommand test" -s o -d 'More mount options, as for `flu mount -o` (the test always adds direct_io,attr_timeout=0,entry_timeout=0,negative_timeout=0)' -r
complete -c flu -n "__fish_flu_using_subcommand test" -l json -d 'Print one JSON object with the same rows instead of the table'
complete -c flu -n "__fish_flu_using_subcommand test" -l show-log -d 'Print the daemon\'s output (its log and the script\'s prints) after the results'
complete -c flu -n "__fish_flu_using_subcommand test" -s h -l help -d 'Print help'
complete -c flu -n "__fish_flu_using_subcommand check" -s h -l help -d 'Print help'
complete -c flu -n "__fish_flu_using_subcommand types" -l force -d 'Replace an existing .luarc.json'
complete -c flu -n "__fish_flu_using_subcommand types" -s h -l help -d 'Print help'
complete -c flu -n "__fish_flu_using_subcommand run" -l log-level -d 'Log level: error, warn, info, debug or trace (default info)' -r
complete -c flu -n "__fish_flu_using_subcommand run" -l log-file -d 'Write the daemon\'s log (and the script\'s output) to FILE' -r -F
complete -c flu -n "__fish_flu_using_subcommand run" -s v -l verbose -d 'More log output (-v debug, -vv trace)'
complete -c flu -n "__fish_flu_using_subcommand run" -s h -l help -d 'Print help'
complete -c flu -n "__fish_flu_using_subcommand completions" -s h -l help -d 'Print help'
complete -c flu -n "__fish_flu_using_subcommand man" -l dir -d 'Write flu.1 and a page per subcommand (flu-mount.1, …) into DIR instead of printing flu.1' -r -F
complete -c flu -n "__fish_flu_using_subcommand man" -s h -l help -d 'Print help'
complete -c flu -n "__fish_flu_using_subcommand help; and not __fish_seen_subcommand_from mount unmount stats list reload test check types run completions man help" -f -a "mount" -d 'Mount the filesystem a Lua script defines, and serve it in the background'
complete -c flu -n "__fish_flu_using_subcommand help; and not __fish_seen_subcommand_from mount unmount stats list reload test check types run completions man help" -f -a "unmount" -d 'Unmount a flu (or any FUSE) mount: the same as `fusermount3 -u DIR`'
complete -c flu -n "__fish_flu_using_subcommand help; and not __fish_seen_subcommand_from mount unmount stats list reload test check types run completions man help" -f -a "stats" -d 'Show the numbers of a mount: nodes, open files, threads, Lua memory, handler timeouts, and per operation requests, errors by errno and latency percentiles'
complete -c flu -n "__fish_flu_using_subcommand help; and not __fish_seen_subcommand_from mount unmount stats list reload test check types run completions man help" -f -a "list" -d 'List the running flu mounts of this user: mountpoint, daemon pid, uptime, script'
complete -c flu -n "__fish_flu_using_subcommand help; and not __fish_seen_subcommand_from mount unmount stats list reload test check types run completions man help" -f -a "reload" -d 'Load a mounted script again and switch to its handlers without unmounting (flu.state and open files are kept; a script that fails to load changes nothing)'
complete -c flu -n "__fish_flu_using_subcommand help; and not __fish_seen_subcommand_from mount unmount stats list reload test check types run completions man help" -f -a "test" -d 'Mount a script in a temporary directory, run a conformance battery chosen from its handlers, print the results and unmount (exit 1 when a check fails)'
complete -c flu -n "__fish_flu_using_subcommand help; and not __fish_seen_subcommand_from mount unmount stats list reload test check types run completions man help" -f -a "check" -d 'Load a script without mounting and report what is wrong with it: unknown or misspelled handler names, handlers that are no functions, and what getattr(\'/\') and readdir(\'/\') return. Exits 1 on any error (warnings alone: 0)'
complete -c flu -n "__fish_flu_using_subcommand help; and not __fish_seen_subcommand_from mount unmount stats list reload test check types run completions man help" -f -a "types" -d 'Write flu\'s LuaLS annotations (the flu and fs modules, handlers, stat tables, fi, modes, errno) into DIR/.flu-types/, and a .luarc.json in DIR that uses them'
complete -c flu -n "__fish_flu_using_subcommand help; and not __fish_seen_subcommand_from mount unmount stats list reload test check types run completions man help" -f -a "run" -d 'Run a script as `lua` would, with `flu` and `fs` requirable; `flu.main(argv, fs)` mounts as Flu scripts expect'
complete -c flu -n "__fish_flu_using_subcommand help; and not __fish_seen_subcommand_from mount unmount stats list reload test check types run completions man help" -f -a "completions" -d 'Print a shell completion script for bash, zsh or fish'
complete -c flu -n "__fish_flu_using_subcommand help; and not __fish_seen_subcommand_from mount unmount stats list reload test check types run completions man help" -f -a "man" -d 'Print flu\'s manual page (roff), or write a page per subcommand into a directory'
complete -c flu -n "__fish_flu_using_subcommand help; and not __fish_seen_subcommand_from mount unmount stats list reload test check types run completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
