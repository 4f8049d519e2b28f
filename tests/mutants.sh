#!/usr/bin/env bash
# Mutation testing of core's files with cargo-mutants: each mutant (an
# operator flipped, a body replaced) is built and the tests run; a mutant
# the tests let through is a rule no test holds. Not part of tests/run: a
# mutant costs a build and a test run (15 s to a minute here).
#
#   tests/mutants.sh core/src/domain/rules.rs ...          # roster's unit tests (fast)
#   ROSTER_MUTANTS_FULL=1 tests/mutants.sh core/src/api/users.rs ...
#                                                          # and the integration suite
#
# Extra cargo-mutants flags go in ROSTER_MUTANTS_ARGS (e.g. `-F 'fn_name'`
# to keep the mutants whose name matches). ROSTER_MUTANTS_TESTS (with
# ROSTER_MUTANTS_FULL) runs only the integration tests whose names hold one
# of its words (e.g. `subscri purge`): a mutant then costs its build and
# seconds of tests, not the whole suite's 45 s (ROSTER_MUTANTS_TIMEOUT
# then cuts the wait for a mutant that loops). The report is in
# target/mutants/mutants.out (missed.txt: the mutants that lived).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

version=27.1.0
tools="${ROSTER_TOOLS:-$HOME/.cache/roster-tools}"
if ! "$tools/bin/cargo-mutants" mutants --version 2>/dev/null | grep -q "$version"; then
    cargo install cargo-mutants --version "$version" --root "$tools"
fi
[ $# -gt 0 ] || { echo "usage: $0 FILE..." >&2; exit 2; }

files=()
for f in "$@"; do files+=(-f "$f"); done
# cargo-mutants tests the package of the mutated file (roster) and, here,
# ignores --test-package: the integration suite is named as cargo test
# arguments instead. Its slowest tests (a minute of bit flips, a 10,000-user
# restore, ...) are skipped; a mutant only they would catch shows as missed
# and is worth a look by hand.
test_args=(--cargo-test-arg=--lib)
timeout=60
if [ -n "${ROSTER_MUTANTS_FULL:-}" ]; then
    test_args+=(--cargo-test-arg=--package=roster-tests --cargo-test-arg=--test=integration
        --cargo-test-arg=--)
    for slow in bitflip a_large_restore every_class_of_bad_input_is_refused_in_the_envelope \
        overlong_names_match a_rewired_root every_refused_row_is_heard rows_a_damaged_branch; do
        test_args+=("--cargo-test-arg=--skip=$slow")
    done
    # shellcheck disable=SC2086 # a list of words
    for word in ${ROSTER_MUTANTS_TESTS:-}; do
        test_args+=("--cargo-test-arg=$word")
    done
    timeout=300
fi
# A mutant that makes a loop endless costs the whole timeout: a run whose
# words pick a short suite can set a shorter one (it includes building the
# integration tests, a minute or more, and applies to the baseline too).
timeout="${ROSTER_MUTANTS_TIMEOUT:-$timeout}"
# shellcheck disable=SC2086 # ROSTER_MUTANTS_ARGS is a list of flags.
exec "$tools/bin/cargo-mutants" mutants --no-shuffle -j 1 -o target/mutants \
    "${files[@]}" "${test_args[@]}" --timeout "$timeout" ${ROSTER_MUTANTS_ARGS:-}
