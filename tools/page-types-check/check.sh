#!/usr/bin/env bash
# Compares foliolab's flag census with the kernel's tools/mm/page-types, line for line.
# Needs root (bind mounts) and a page-types binary built from a kernel tree: PAGE_TYPES=/path/to/page-types.
# Contains no kernel code. Always unmounts what it mounted.
set -euo pipefail
: "${PAGE_TYPES:?set PAGE_TYPES to a page-types binary}"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SNAP=${1:-$ROOT/packages/procfs/test-fixtures/kpage-snapshot-idle}
WORK=$(mktemp -d /tmp/page-types-check.XXXXXX)
DUMP=(node --conditions=@foliolab/source --import tsx "$ROOT/tools/page-types-check/dump.ts")
mounted=()
cleanup() {
  for m in "${mounted[@]}"; do if [ -n "$m" ]; then umount "$m" || true; fi; done
  rm -rf "$WORK"
}
trap cleanup EXIT
bind() { mount --bind "$1" "$2"; mounted+=("$2"); }
unbind() { umount "$1"; mounted=("${mounted[@]/$1}"); }
compare() { # name expected actual
  if cmp -s "$2" "$3"; then echo "SAME  $1 ($(wc -l <"$2") lines)"; else echo "DIFF  $1"; diff "$2" "$3" | head -20; return 1; fi
}
status=0

# 1. The snapshot, served to page-types through bind mounts over /proc/kpageflags and /proc/kpagecount.
for f in kpageflags kpagecount; do
  if [ -f "$SNAP/$f.gz" ]; then gzip -dc "$SNAP/$f.gz" >"$WORK/snap-$f"; else cp "$SNAP/$f" "$WORK/snap-$f"; fi
done
bind "$WORK/snap-kpageflags" /proc/kpageflags
bind "$WORK/snap-kpagecount" /proc/kpagecount
cmp -s <(head -c "$(stat -c %s "$WORK/snap-kpageflags")" /proc/kpageflags) "$WORK/snap-kpageflags" && echo "bind mount: /proc/kpageflags now serves the snapshot"
"$PAGE_TYPES" -r >"$WORK/snap-kernel-r.txt"
"$PAGE_TYPES" >"$WORK/snap-kernel.txt"
unbind /proc/kpagecount
unbind /proc/kpageflags
"${DUMP[@]}" snapshot "$SNAP" >"$WORK/snap-ours-r.txt"
"${DUMP[@]}" snapshot "$SNAP" --no-raw >"$WORK/snap-ours.txt"
compare "snapshot page-types -r" "$WORK/snap-kernel-r.txt" "$WORK/snap-ours-r.txt" || status=1
compare "snapshot page-types" "$WORK/snap-kernel.txt" "$WORK/snap-ours.txt" || status=1

# 2. The live machine: foliolab reads /proc once and saves the exact bytes it read; page-types reads the
#    same bytes through bind mounts, so both see one instant of the machine.
"${DUMP[@]}" live "$WORK" >"$WORK/live-ours-r.txt"
bind "$WORK/kpageflags" /proc/kpageflags
bind "$WORK/kpagecount" /proc/kpagecount
"$PAGE_TYPES" -r >"$WORK/live-kernel-r.txt"
unbind /proc/kpagecount
unbind /proc/kpageflags
compare "live capture page-types -r" "$WORK/live-kernel-r.txt" "$WORK/live-ours-r.txt" || status=1

# 3. The live machine read directly by both, back to back (the machine moves in between: expect small
#    count differences, same flag combinations mostly, same format).
"$PAGE_TYPES" -r >"$WORK/direct-kernel-r.txt"
"${DUMP[@]}" live-direct >"$WORK/direct-ours-r.txt"
echo "live direct, back to back: kernel $(wc -l <"$WORK/direct-kernel-r.txt") lines, ours $(wc -l <"$WORK/direct-ours-r.txt") lines;" \
  "totals: kernel '$(tail -1 "$WORK/direct-kernel-r.txt" | tr -s ' \t' ' ')', ours '$(tail -1 "$WORK/direct-ours-r.txt" | tr -s ' \t' ' ')';" \
  "flag values only in one: $(diff <(cut -f1 "$WORK/direct-kernel-r.txt" | sort) <(cut -f1 "$WORK/direct-ours-r.txt" | sort) | grep -c '^[<>]' || true)"
grep -c kpage /proc/self/mountinfo >/dev/null && { echo "ERROR: a kpage bind mount is still present"; status=1; } || echo "unmounted: no kpage* mounts left"
exit $status
