#!/bin/sh
# Regenerate the manual pages and shell completions in dist/ from the flu command line.
# The Debian package (cargo deb -p flu) ships these files; tests/dist_files.rs fails when
# they differ from what the binary generates, so run this after changing the CLI:
#
#   dist/generate.sh            # builds and uses the debug flu
#   dist/generate.sh PATH/flu   # or a flu you built
set -eu
cd "$(dirname "$0")/.."
if [ $# -ge 1 ]; then
	flu=$1
else
	cargo build -q -p flu --bin flu
	flu=$(cargo metadata -q --format-version 1 --no-deps | sed 's/.*"target_directory":"\([^"]*\)".*/\1/')/debug/flu
fi
rm -rf dist/man dist/completions
mkdir -p dist/man dist/completions
"$flu" man --dir dist/man
"$flu" completions bash > dist/completions/flu.bash
"$flu" completions zsh > dist/completions/_flu
"$flu" completions fish > dist/completions/flu.fish
echo "dist/: $(ls dist/man | wc -l) manual pages, 3 completion scripts"
