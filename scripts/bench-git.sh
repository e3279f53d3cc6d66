#!/usr/bin/env bash
# Benchmarks ringflow's in-process git reads (pkg/gitrepo, go-git plus the
# commit-graph) against the git subprocesses they replace, on a generated
# repository of 100 000 commits on dev with rings 1k, 10k and 50k commits
# behind (made once with git fast-import and cached in $TMPDIR, ~15 s), and
# measures the peak RSS of `ringflow status` there. Prints a table; exits 1
# if a target is missed or a benchmark fails. Usage:
#   scripts/bench-git.sh [BENCHTIME]      (default 0.5s; e.g. 2s, 20x)
#
#   IsAncestor/ring=N      IsAncestor(ring, dev), true  vs git merge-base --is-ancestor
#   NotAncestor/ring=N     IsAncestor(dev, ring), false vs the same
#   CountBehind/ring=N     CountBetween(ring, dev)      vs git rev-list --count ring..dev
#   CountNotAhead/ring=N   CountBetween(dev, ring) = 0  vs git rev-list --count dev..ring
#   Ungraphed/…            the same with 10 commits on dev the commit-graph lacks
set -euo pipefail
cd "$(dirname "$0")/.."
benchtime=${1:-0.5s}
max_ratio=1.5 max_rss_mb=100

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ringflow-bench-git.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# The benchmark would build ringflow itself; building here keeps the user's
# go caches in play.
if go build -o "$tmp/ringflow" ./cmd/ringflow 2>"$tmp/build.log"; then
	export RINGFLOW_BENCH_BIN=$tmp/ringflow
else
	echo "warning: ringflow does not build; status RSS will be skipped:" >&2
	cat "$tmp/build.log" >&2
fi

cmd=(go test -run '^$' -bench '^BenchmarkBig' -benchtime="$benchtime" -count=1 ./pkg/gitrepo/)
echo "${cmd[*]}"
echo "git $(git --version | awk '{print $3}'), $(go env GOVERSION), $(nproc) CPUs"
status=0
"${cmd[@]}" >"$tmp/raw.txt" 2>&1 || status=$?
if [ "$status" -ne 0 ]; then
	cat "$tmp/raw.txt"
fi

awk -v max_ratio="$max_ratio" -v max_rss="$max_rss_mb" -v status="$status" '
function dur(ns) {
	if (ns >= 1e9) return sprintf("%.2f s", ns / 1e9)
	if (ns >= 1e6) return sprintf("%.2f ms", ns / 1e6)
	if (ns >= 1e3) return sprintf("%.1f us", ns / 1e3)
	return sprintf("%d ns", ns)
}
/^BenchmarkBig/ {
	name = $1
	sub(/-[0-9]+$/, "", name)
	sub(/^BenchmarkBig/, "", name)
	for (i = 4; i < NF; i++) if ($(i+1) == "peak-MB") { rss[name] = $i; rssorder[++nr] = name }
	side = name; sub(/.*\//, "", side)
	key = name; sub(/\/[^\/]*$/, "", key)
	if (side == "cli") { cli[key] = $3; order[++n] = key }
	if (side == "gogit") gogit[key] = $3
}
END {
	missed = 0
	printf "%-36s %12s %12s %8s %8s %5s\n", "case", "go-git/op", "git CLI/op", "ratio", "target", "met?"
	for (i = 1; i <= n; i++) {
		k = order[i]
		if (!(k in gogit)) { printf "%-36s %12s %12s %8s %8s %5s\n", k, "-", dur(cli[k]), "-", "<=" max_ratio "x", "no"; missed++; continue }
		r = gogit[k] / cli[k]
		met = r <= max_ratio ? "yes" : "no"
		if (met == "no") missed++
		printf "%-36s %12s %12s %7.3fx %8s %5s\n", k, dur(gogit[k]), dur(cli[k]), r, "<=" max_ratio "x", met
	}
	print ""
	printf "%-36s %12s %8s %5s\n", "ringflow status, peak RSS", "MB", "target", "met?"
	for (i = 1; i <= nr; i++) {
		k = rssorder[i]
		if (k == "StatusRSS/ringflow") {
			met = rss[k] <= max_rss ? "yes" : "no"
			if (met == "no") missed++
			printf "%-36s %12.1f %8s %5s\n", "ringflow (own process)", rss[k], "<=" max_rss, met
		} else if (k == "StatusRSS/ringflow+nix") {
			printf "%-36s %12.1f %8s %5s\n", "ringflow + its nix children (info)", rss[k], "-", "-"
		} else {
			printf "%-36s %12.1f %8s %5s\n", "gitrepo calls of status only (info)", rss[k], "-", "-"
		}
	}
	if (!("StatusRSS/ringflow" in rss)) { print "ringflow status RSS: not measured"; missed++ }
	if (n == 0) missed++
	if (status != 0) print "go test failed (exit " status ")"
	exit (missed > 0 || status != 0)
}' "$tmp/raw.txt"
