#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# tools/bench/report.py RES OUT CHARTS: turns the results tools/bench/run collected in RES into
# OUT (docs/BENCHMARKS.md: a Markdown table per workload, the targets of issue 6 checked, the
# machine, versions and exact commands) and CHARTS/*.png (gnuplot). Every figure is a median over
# the run's repetitions, with their range; every ratio is between medians of the same run. When the
# run had the path `baseline` (another build of boundary, BENCH_BASELINE), a section compares the
# two builds workload by workload.
import os
import statistics
import subprocess
import sys

RES, OUT, CHARTS = sys.argv[1:4]
PATHS = ["direct", "boundary", "baseline", "relay", "squid", "mitmproxy"]


def meta():
    m = {}
    with open(os.path.join(RES, "meta")) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("=")
            m[k] = v
    return m


M = meta()
PATHS = [p for p in PATHS if p in M.get("paths", "").split()]
BASELINE = "baseline" in PATHS


def rows(name):
    """The lines of RES/name as lists of floats ('-' becomes None)."""
    try:
        with open(os.path.join(RES, name)) as f:
            return [[None if x == "-" else float(x) for x in l.split()] for l in f if l.strip()]
    except FileNotFoundError:
        return []


def col(name, i):
    return [r[i] for r in rows(name) if len(r) > i and r[i] is not None]


def med(v):
    return statistics.median(v) if v else None


def rng(v):
    return (min(v), max(v)) if v else (None, None)


def fmt(x, nd=0):
    if x is None:
        return "–"
    if nd == 0:
        return f"{x:,.0f}".replace(",", " ")
    return f"{x:.{nd}f}"


def ratio(a, b, nd=2):
    if a is None or b is None or b == 0:
        return "–"
    return f"{a / b:.{nd}f}×"


out = []
w = out.append
quick = M["mode"] == "quick"

w("# Benchmarks\n")
w("boundary beside the direct path and three other ways to put a TLS-intercepting (or merely")
w("TLS-terminating) proxy between a program and its servers, measured in **one run on one machine**,")
w("interleaved, so that the figures can be compared with each other. The machines these run on are")
w("shared and noisy: absolute numbers are not comparable between runs, ratios within a run are.")
w("Regenerate with `sudo make bench` (about 15 minutes) or `sudo make bench QUICK=1` (under 3).\n")
w(f"This file was written by `tools/bench/run` on {M['date']} ({M['mode']} run: "
  f"{M['reps']} repetitions of {M['dur']} s per workload and path).\n")

w("## The paths\n")
w("| path | what the client talks to |")
w("|---|---|")
w("| `direct` | nginx itself: the limit |")
w("| `boundary` | the client runs inside `boundary --allow domain=bench.test --allow 'domain=*.bench.test' --upstream-ca CA -- ...`, transparent, as users run it; boundary mints a leaf per name, decides every request, and verifies nginx's certificate |")
w("| `relay` | nginx's `stream` module terminating TLS with a fixed certificate and opening one verified TLS connection to nginx per client connection: no HTTP parsing, no minting, no rules: the floor of what a C event loop with OpenSSL costs here |")
w("| `squid` | squid-openssl, `https_port ... intercept ssl-bump` (peek at step 1, then bump; certificates generated per name by `security_file_certgen`), `cache deny all` |")
w("| `mitmproxy` | `mitmdump --mode transparent` |")
if BASELINE:
    w(f"| `baseline` | another build of boundary (`{M.get('baseline', '?')}`, from "
      f"`{M.get('baseline_dir', '?')}`), run exactly as `boundary` is: a jail and runner of its own, "
      "the same flags and CPUs; see *Against the baseline build* |")
w("")
w("`relay`, `squid` and `mitmproxy` are reached as transparent proxies are: an iptables `REDIRECT` in")
w("nat OUTPUT, for the client's uid only, sends the client's connections to the proxy; the proxies'")
w("own connections to nginx (another uid) are left alone. boundary needs none of that: the client")
w("runs in its jail, and its BPF programs send every connection to boundary's proxy.\n")

w("## Summary: boundary against the others and against the targets of issue 6\n")
summary_at = len(out)  # filled in below, once every table has its figures
w("")

# --- A, B, C -------------------------------------------------------------------------------------

WL = {
    "A": ("A: keep-alive, 200-byte response, %s connections" % M["a_conns"], "req/s"),
    "B": ("B: a new TCP+TLS connection per request (`Connection: close`), %s concurrent"
          % M["b_conns"], "req/s"),
    "C": ("C: 1 MiB responses over keep-alive, %s connections" % M["c_conns"], "MiB/s"),
}
fig = {}  # fig[(workload, path)] = median figure
cpu = {}
for wl, (title, unit) in WL.items():
    w(f"## {title}\n")
    if wl == "C":
        w("| path | MiB/s (median) | range | × direct | proxy CPU per MiB (µs) |")
        w("|---|---:|---:|---:|---:|")
    else:
        w(f"| path | {unit} (median) | range | × direct | p50 latency (µs) | p99 latency (µs) | "
          f"proxy CPU per {'request' if wl == 'A' else 'connection'} (µs) |")
        w("|---|---:|---:|---:|---:|---:|---:|")
    for p in PATHS:
        name = f"{wl}.{p}"
        if wl == "C":
            v = [x / 1048576 for x in col(name, 3)]
        else:
            v = col(name, 0)
        fig[(wl, p)] = med(v)
        cpu[(wl, p)] = med(col(name, 4))
    for p in PATHS:
        lo, hi = rng(col(f"{wl}.{p}", 3) if wl == "C" else col(f"{wl}.{p}", 0))
        if wl == "C" and lo is not None:
            lo, hi = lo / 1048576, hi / 1048576
        c = cpu[(wl, p)]
        if wl == "C":
            c = None if c is None else c  # per 1 MiB response = per MiB
            w(f"| `{p}` | {fmt(fig[(wl, p)])} | {fmt(lo)}–{fmt(hi)} | "
              f"{ratio(fig[(wl, p)], fig[(wl, 'direct')])} | {fmt(c)} |")
        else:
            w(f"| `{p}` | {fmt(fig[(wl, p)])} | {fmt(lo)}–{fmt(hi)} | "
              f"{ratio(fig[(wl, p)], fig[(wl, 'direct')])} | {fmt(med(col(f'{wl}.{p}', 1)))} | "
              f"{fmt(med(col(f'{wl}.{p}', 2)))} | {fmt(c, 1) if c is not None else '–'} |")
    u_d, u_b = med(col(f"{wl}.direct", 6)), med(col(f"{wl}.boundary", 6))
    p_b = cpu[(wl, "boundary")]
    if wl in ("A", "C") and None not in (u_d, u_b, p_b, fig[(wl, "direct")]) and u_b + p_b > 0:
        unit1 = "request" if wl == "A" else "MiB"
        d = fig[(wl, "direct")]
        ceil = 1e6 / (u_b + p_b)
        w("")
        w(f"The servers' core (CPU 1) holds the upstream nginx and the proxy. On `direct`, nginx "
          f"spent {fmt(u_d, 1)} µs per {unit1} there ({100 * d * u_d / 1e6:.0f} % of the core at "
          f"{fmt(d)} {unit}); on `boundary`, nginx {fmt(u_b, 1)} µs and boundary {fmt(p_b, 1)} µs. "
          f"Sharing one core, the two allow at most {fmt(ceil)} {unit} = "
          f"{ratio(ceil, d)} direct on this path, however fast the client is.")
        if wl == "A":
            need = 1e6 / (0.55 * d) - 40
            w(f"The target (0.55× direct at 40 µs of proxy CPU) would need nginx to spend under "
              f"{fmt(need, 1)} µs per request there.")
    if wl == "B" and col("Bfull.direct", 0):
        v = col("Bfull.direct", 0)
        fig[("Bfull", "direct")] = med(v)
        lo, hi = rng(v)
        w(f"| `direct`, no session tickets | {fmt(med(v))} | {fmt(lo)}–{fmt(hi)} | "
          f"{ratio(med(v), fig[('B', 'direct')])} | {fmt(med(col('Bfull.direct', 1)))} | "
          f"{fmt(med(col('Bfull.direct', 2)))} | – |")
        w("")
        w("wrk reuses its TLS object on reconnecting (`SSL_clear`), so it offers the previous")
        w("session and resumes it wherever the server issued a session ticket: nginx does (`direct`,")
        w("`relay`), and so does boundary (one ticket per connection). The row *`direct`, no session")
        w("tickets* is nginx with `ssl_session_tickets off`: the limit for full handshakes "
          f"(boundary ÷ it: {ratio(fig[('B', 'boundary')], med(v))}).")

    errs = {p: sum(col(f"{wl}.{p}", 5)) for p in PATHS}
    bad = [f"`{p}` {int(n)}" for p, n in errs.items() if n]
    w("")
    if bad:
        w("wrk counted errors (socket errors or non-2xx answers): " + ", ".join(bad) + ".\n")
    w(f"![{title}](bench/{wl.lower()}.png)\n")

# --- D -------------------------------------------------------------------------------------------

w("## D: time to first byte of one fresh connection\n")
w("One TCP connection, one full TLS handshake (no resumption) verifying the certificate, one `GET`,")
w(f"to the first byte of the response; the median of {M['d_samples']} connections per repetition.")
w("*Seen name*: `bench.test`, which the proxy has served before. *New name*: a name the proxy has")
w("never seen (`nN.bench.test`, fresh each time), so an intercepting proxy mints a certificate and")
w("resolves the name first. The client sets `TCP_NODELAY`, as curl, wrk, Go, Node and urllib3 do;")
w("the last column is the seen name from a client that does not (a plain OpenSSL program).\n")
w("| path | seen name (ms) | range | × direct | new name (ms) | range | × direct | seen name, client without TCP_NODELAY (ms) |")
w("|---|---:|---:|---:|---:|---:|---:|---:|")
for p in PATHS:
    for i, k in enumerate(("warm", "new", "nagle")):
        fig[("D" + k, p)] = med(col(f"D.{p}", i))
for p in PATHS:
    wl, wh = rng(col(f"D.{p}", 0))
    nl, nh = rng(col(f"D.{p}", 1))
    w(f"| `{p}` | {fmt(fig[('Dwarm', p)], 2)} | {fmt(wl, 2)}–{fmt(wh, 2)} | "
      f"{ratio(fig[('Dwarm', p)], fig[('Dwarm', 'direct')])} | {fmt(fig[('Dnew', p)], 2)} | "
      f"{fmt(nl, 2)}–{fmt(nh, 2)} | {ratio(fig[('Dnew', p)], fig[('Dnew', 'direct')])} | "
      f"{fmt(fig[('Dnagle', p)], 2)} |")
w("\n![D: time to first byte](bench/d.png)\n")

# --- E -------------------------------------------------------------------------------------------

w("## E: memory per idle intercepted connection\n")
w("The proxy's resident memory (VmRSS summed over its processes: boundary's one process; nginx's")
w("master and worker; squid and its certificate helpers; mitmdump) before, and with N connections")
w("open that have each completed one keep-alive request through it and then stay idle.")
if M.get("e_note"):
    w(M["e_note"])
w("")
w("| path | N | RSS before (KiB) | RSS with N idle (KiB) | KiB per connection |")
w("|---|---:|---:|---:|---:|")
e_sizes = sorted({int(r[0]) for p in PATHS for r in rows(f"E.{p}")})
for n in e_sizes:
    for p in PATHS:
        for r in rows(f"E.{p}"):
            if int(r[0]) == n:
                w(f"| `{p}` | {n} | {fmt(r[1])} | {fmt(r[2])} | {fmt(r[3], 1)} |")
                fig[("E%d" % n, p)] = r[3]
w("\n![E: KiB per idle connection](bench/e.png)\n")
e_big = e_sizes[-1] if e_sizes else None

# --- F -------------------------------------------------------------------------------------------

F_LABEL = {
    "true": "`true` alone",
    "boundary": "`boundary -- true`",
    "coder": "coder/boundary's veth + iptables set-up and teardown, one command at a time (`tools/bench/coder-netns.sh`)",
    "coder-batched": "the same, batched: `ip -batch`, `iptables-restore` (`coder-netns.sh --batched`)",
    "httpjail": "coder/httpjail's netns + veth + nft set-up and teardown (`tools/bench/httpjail-netns.sh`)",
    "netns": "a bare `ip netns add` + `ip netns del`",
    "baseline": "`boundary -- true`, the baseline build",
}
frows = {}   # name: (median, min, max) ms
fconc = {}   # "concurrent"[-baseline]: (median, min, max ms, jails)
fidle = {}   # "idle"[-baseline]: (boundary's RSS, its init's RSS, cgroup memory.current) KiB or None
try:
    with open(os.path.join(RES, "F")) as f:
        for line in f:
            x = line.split()
            num = [None if v == "-" else float(v) for v in x[1:]]
            if x[0].startswith("concurrent"):
                fconc[x[0]] = tuple(num)
            elif x[0].startswith("idle"):
                fidle[x[0]] = tuple(num)
            else:
                frows[x[0]] = tuple(num[:3])
except FileNotFoundError:
    pass
w("## F: jail start-up\n")
w(f"Wall time of each, {M['f_runs']} runs interleaved (`tools/bench/startup`), and minus `true`.\n")
w("| what | median (ms) | range (ms) | minus `true` (ms) |")
w("|---|---:|---:|---:|")
t0 = frows.get("true", (0, 0, 0))[0]
for k, label in F_LABEL.items():
    if k in frows:
        a, b, c = frows[k]
        w(f"| {label} | {a:.1f} | {b:.1f}–{c:.1f} | {a - t0:.1f} |")
w("")
if fconc:
    w("Many jails at once: the wall time from starting them all together (each `boundary -- true`)")
    nr = M.get("f_conc_runs") or "a few"
    runs = "one run" if nr == "1" else f"the median of {nr} runs"
    w(f"to the end of the last, {runs}. They share the machine's "
      f"{M.get('cores', '?')} cores.\n")
    w("| what | jails | median (ms) | range (ms) | per jail (ms) |")
    w("|---|---:|---:|---:|---:|")
    for k in sorted(fconc):
        a, b, c, n = fconc[k]
        label = "`boundary -- true`" + (", the baseline build" if k != "concurrent" else "")
        w(f"| {label} | {n:.0f} | {a:.0f} | {b:.0f}–{c:.0f} | {a / n:.2f} |")
    w("")
if fidle:
    w("Memory of one idle jail (`boundary -- sleep 60`, half a second after its command started):")
    w("boundary's own process (the supervisor and the proxy are one process) and the jail's init, as")
    w("VmRSS (shared library pages counted in full); the kernel's share is the jail cgroup's")
    w("`memory.current` where cgroup2 has the memory controller.\n")
    w("| build | boundary (KiB) | init (KiB) | cgroup memory.current (KiB) |")
    w("|---|---:|---:|---:|")
    for k in sorted(fidle):
        rss, irss, cg = fidle[k]
        w(f"| {'boundary' if k == 'idle' else 'baseline'} | {fmt(rss)} | {fmt(irss)} | "
          f"{fmt(cg) if cg is not None else 'not measurable here: no memory controller in cgroup2'} |")
    w("")
w("The first jail after boot (a cold page cache, the kernel's BTF read for the first time, the")
w("first BPF programs verified) is not measured: the machines these run on are not rebooted")
w("between runs, so every figure here is a warm start.")
fig["F"] = frows["boundary"][0] - t0 if "boundary" in frows else None
fig["Fconc"] = fconc["concurrent"][0] if "concurrent" in fconc else None
fig["Fidle"] = fidle["idle"][0] if "idle" in fidle else None
fig["Fb"] = frows["coder-batched"][0] - t0 if "coder-batched" in frows else None
fig["Fbase"] = frows["baseline"][0] - t0 if "baseline" in frows else None
w("")

# --- G -------------------------------------------------------------------------------------------

w("## G: rule decisions per second\n")
w("`rules_match()` in a loop (`tools/bench/rules_bench.c`), one thread; *indexed*: exact and `*.`")
w("domains, as policies are written; *scanned*: every domain has a wildcard in the middle, which")
w("the index cannot place, so every rule is tried (the worst case). *js*: a typical `--js` expression")
w("(`r.method === 'GET' && (r.host === 'github.com' || r.host.endsWith('.github.com') || [...].includes(r.host))`)")
w("through the whole `--js` path, `policy_ask()` to the answer (a lane's thread, the evaluator process,")
w("MuJS), one at a time on one lane; *js-lanes*: 64 in flight on two lanes. What the engine costs is")
w("paid only by requests no allow rule admits.\n")
def g_rows(name):
    """(rules, set, ns per decision) from rules_bench's output in RES/name"""
    try:
        with open(os.path.join(RES, name)) as f:
            return [(int(x[1]), x[2], float(x[3])) for x in map(str.split, f)
                    if len(x) > 3 and x[0] == "rules"]
    except FileNotFoundError:
        return []


w("| rules | set | ns per decision | decisions per second |")
w("|---:|---|---:|---:|")
for n, kind, ns in g_rows("G"):
    fig[("G", n, kind)] = 1e9 / ns
    w(f"| {n:,} | {kind} | {ns:.0f} | {fmt(1e9 / ns)} |".replace(",", " "))
for n, kind, ns in g_rows("G.baseline"):
    fig[("Gbase", n, kind)] = 1e9 / ns
w("")

# --- H ---------------------------------------------------------------------------------------------

H_PATHS = [p for p in PATHS if p in M.get("h_paths", "").split()]
if any(col(f"H.{p}", 0) for p in H_PATHS):
    w(f"## H: HTTP/2, {M['h_streams']} streams at a time on each of {M['h_conns']} connections\n")
    w(f"`h2load -n {M['h_reqs']} -c {M['h_conns']} -m {M['h_streams']} -N 10s` over TLS (ALPN h2) for the "
      "200-byte `/small`, from")
    w("a listener of the upstream nginx that speaks h2 (`listen ... ssl http2`, a port of its own, so")
    w("that A to E stay HTTP/1.1). On `boundary` the client's streams are each decided as a request and")
    w("go to nginx as streams of boundary's own h2 connections. `relay` here is nginx's `http` module,")
    w("not the stream relay of A to E: it terminates h2 and proxies each request over kept-alive,")
    w("verified HTTP/1.1 TLS connections (nginx cannot proxy h2 but to gRPC), so it parses HTTP as")
    w("boundary does. squid and mitmproxy are not measured here. Latencies are per request, from")
    w("h2load's `--log-file`.\n")
    w("| path | req/s (median) | range | × direct | × relay | p50 latency (µs) | p99 latency (µs) | "
      "proxy CPU per request (µs) |")
    w("|---|---:|---:|---:|---:|---:|---:|---:|")
    for p in H_PATHS:
        fig[("H", p)] = med(col(f"H.{p}", 0))
        cpu[("H", p)] = med(col(f"H.{p}", 4))
    for p in H_PATHS:
        lo, hi = rng(col(f"H.{p}", 0))
        c = cpu[("H", p)]
        w(f"| `{p}` | {fmt(fig[('H', p)])} | {fmt(lo)}–{fmt(hi)} | "
          f"{ratio(fig[('H', p)], fig.get(('H', 'direct')))} | "
          f"{ratio(fig[('H', p)], fig.get(('H', 'relay')))} | {fmt(med(col(f'H.{p}', 1)))} | "
          f"{fmt(med(col(f'H.{p}', 2)))} | {fmt(c, 1) if c is not None else '–'} |")
    bad = [f"`{p}` {int(n)}" for p, n in ((p, sum(col(f"H.{p}", 5))) for p in H_PATHS) if n]
    w("")
    if bad:
        w("h2load counted requests that failed or were answered other than 2xx: " + ", ".join(bad) + ".\n")
    w("![H: HTTP/2, many streams on few connections](bench/h.png)\n")

# --- what stands in the way: written by hand, not by this script ------------------------------------

# The analysis of where the time goes and what the next design step is (from profiles and
# syscall counts, which this run does not take) lives in docs/bench/analysis.md, so that a
# new run of the bench does not erase it. Its figures say where they come from.
ANALYSIS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "bench",
                        "analysis.md")
if os.path.exists(ANALYSIS):
    with open(ANALYSIS) as f:
        w(f.read().rstrip("\n") + "\n")

# --- the profile of A ----------------------------------------------------------------------------

if os.path.exists(os.path.join(CHARTS, "flame-A.svg")):
    w("## Profile: boundary's proxy under A\n")
    w("`perf record -g` of the proxy during one more run of A (not counted above), as a flame graph:\n")
    w("![boundary's proxy under A](bench/flame-A.svg)\n")
elif os.path.exists(os.path.join(CHARTS, "flame-A.txt")):
    w("## Profile: boundary's proxy under A\n")
    w("`perf record -g` of the proxy during one more run of A (not counted above); no flame graph")
    w("could be drawn here (Debian 12 packages no FlameGraph scripts), so perf's hottest symbols:\n")
    w("```")
    with open(os.path.join(CHARTS, "flame-A.txt")) as f:
        w(f.read().rstrip("\n"))
    w("```\n")

# --- the summary ---------------------------------------------------------------------------------


def chk(ok):
    return "met" if ok else "**missed**"


def g(k):
    return fig.get(k)


S = []
S.append("| workload | boundary | p99 latency (µs), boundary (direct) | × direct | × squid | × relay | × mitmproxy | boundary's proxy CPU | target | |")
S.append("|---|---:|---:|---:|---:|---:|---:|---:|---|---|")


def p99(wl):
    """boundary's p99 beside direct's, for a throughput row (wrk's and h2load's latencies)"""
    x, d = med(col(f"{wl}.boundary", 2)), med(col(f"{wl}.direct", 2))
    return "–" if x is None else f"{fmt(x)} ({fmt(d)})"


b = lambda wl: g((wl, "boundary"))
for wl, unit, tgt, cpu_t in (("A", "req/s", 0.55, 40), ("B", "req/s", 0.5, 1500), ("C", "MiB/s", 0.5, None)):
    if b(wl) is None or g((wl, "direct")) is None:
        continue
    r = b(wl) / g((wl, "direct"))
    c = cpu.get((wl, "boundary"))
    ok = r >= tgt and (cpu_t is None or (c is not None and c <= cpu_t))
    target = f"≥ {tgt}× direct"
    if wl == "A":
        target += ", ≥ 3× squid, ≥ 1.5× relay, ≤ 40 µs CPU/request"
        if g(("A", "squid")):
            ok = ok and b("A") >= 3 * g(("A", "squid"))
        if g(("A", "relay")):
            ok = ok and b("A") >= 1.5 * g(("A", "relay"))
    elif wl == "B":
        target += ", ≤ 1.5 ms CPU/connection"
        if g(("Bfull", "direct")):
            target += f" (× direct without tickets: {ratio(b('B'), g(('Bfull', 'direct')))})"
    cpu_s = "–" if c is None else f"{c:.0f} µs/" + {"A": "request", "B": "connection", "C": "MiB"}[wl]
    S.append(f"| {wl} ({unit}) | {fmt(b(wl))} | {p99(wl)} | {ratio(b(wl), g((wl, 'direct')))} | "
             f"{ratio(b(wl), g((wl, 'squid')))} | {ratio(b(wl), g((wl, 'relay')))} | "
             f"{ratio(b(wl), g((wl, 'mitmproxy')))} | {cpu_s} | {target} | {chk(ok)} |")
for k, label, lim in (("Dwarm", "D seen name (ms)", 1.5), ("Dnew", "D new name (ms)", 2.0)):
    x, d = g((k, "boundary")), g((k, "direct"))
    if x is None or d is None:
        continue
    S.append(f"| {label} | {x:.2f} | – | {ratio(x, d)} | {ratio(x, g((k, 'squid')))} | "
             f"{ratio(x, g((k, 'relay')))} | {ratio(x, g((k, 'mitmproxy')))} | – | "
             f"≤ {lim}× direct | {chk(x <= lim * d)} |")
if g(("H", "boundary")) is not None and g(("H", "direct")) is not None:
    c = cpu.get(("H", "boundary"))
    S.append(f"| H (req/s, HTTP/2) | {fmt(g(('H', 'boundary')))} | {p99('H')} | "
             f"{ratio(g(('H', 'boundary')), g(('H', 'direct')))} | – | "
             f"{ratio(g(('H', 'boundary')), g(('H', 'relay')))} | – | "
             f"{'–' if c is None else f'{c:.0f} µs/request'} | none set | – |")
if e_big and g(("E%d" % e_big, "boundary")) is not None:
    x = g(("E%d" % e_big, "boundary"))
    S.append(f"| E KiB per idle connection ({e_big}) | {x:.1f} | – | – | "
             f"{ratio(x, g(('E%d' % e_big, 'squid')))} | {ratio(x, g(('E%d' % e_big, 'relay')))} | "
             f"{ratio(x, g(('E%d' % e_big, 'mitmproxy')))} | – | ≤ 40 KiB | {chk(x <= 40)} |")
if g("F") is not None:
    fb = g("Fb")
    S.append(f"| F start-up overhead (ms) | {g('F'):.1f} | – | – | – | – | – | – | ≤ 12 ms and ≤ 1/7 of "
             f"batched iptables ({fb:.1f} ms) | {chk(g('F') <= 12 and (fb is None or g('F') <= fb / 7))} |")
if g("Fconc") is not None:
    n = fconc["concurrent"][3]
    S.append(f"| F {n:.0f} jails at once, all done (ms) | {g('Fconc'):.0f} | – | – | – | – | – | – | "
             "none set | – |")
if g("Fidle") is not None:
    S.append(f"| F one idle jail, boundary's RSS (KiB) | {fmt(g('Fidle'))} | – | – | – | – | – | – | "
             "none set | – |")
if g(("G", 1000, "indexed")):
    x = g(("G", 1000, "indexed"))
    y = g(("G", 1000, "scanned"))
    S.append(f"| G decisions/s, 1 000 rules | {fmt(x)} (scanned: {fmt(y)}) | – | – | – | – | – | – | "
             f"≥ 1 000 000 | {chk(x >= 1e6)} (scanned: {chk(y is not None and y >= 1e6)}) |")
S.append("")
S.append("Ratios are of medians; for D and E lower is better, so boundary's figure divided by another's")
S.append("below 1× means boundary is faster or smaller. Proxy CPU is user + system time of the proxy's")
S.append("processes (from `/proc/PID/stat`, before and after each run) divided by the requests wrk")
S.append("completed (per connection in B, per 1 MiB response in C); it shows cost even when the client")
S.append("is the bottleneck.\n")
S.append("| proxy CPU per request (µs, median) | " + " | ".join(f"`{p}`" for p in PATHS if p != "direct") + " |")
S.append("|---|" + "---:|" * len([p for p in PATHS if p != "direct"]))
for wl in ("A", "B", "C", "H"):
    if wl == "H" and cpu.get(("H", "boundary")) is None:
        continue
    S.append(f"| {wl} | " + " | ".join(fmt(cpu.get((wl, p)), 1) if cpu.get((wl, p)) is not None else "–"
                                  for p in PATHS if p != "direct") + " |")

# --- against the baseline build --------------------------------------------------------------------

BL = []
if BASELINE:
    BL.append("")
    BL.append("## Against the baseline build\n")
    BL.append(f"`baseline` is `{M.get('baseline', '?')}` (`{M.get('baseline_dir', '?')}/boundary`),")
    BL.append(f"measured in this run beside `boundary` (`{M.get('boundary', '?')}`): a jail and runner of")
    BL.append("its own, the same flags and CPUs, its repetitions interleaved with the other paths' in A–E,")
    BL.append("its start-up interleaved with boundary's in F, and G with its own `tools/rules_bench`.")
    BL.append("The last column is boundary's median divided by the baseline's: for A, B, C and G above 1×")
    BL.append("is better; for CPU, D, E and F (times and sizes) below 1× is better.\n")
    BL.append("| workload | boundary | baseline | boundary ÷ baseline | better |")
    BL.append("|---|---:|---:|---:|---|")

    def brow(label, x, y, nd, higher):
        BL.append(f"| {label} | {fmt(x, nd)} | {fmt(y, nd)} | {ratio(x, y)} | "
                  f"{'higher' if higher else 'lower'} |")

    for wl, unit in (("A", "req/s"), ("B", "req/s"), ("C", "MiB/s"), ("H", "req/s, HTTP/2")):
        brow(f"{wl} ({unit})", g((wl, "boundary")), g((wl, "baseline")), 0, True)
    for wl, per in (("A", "request"), ("B", "connection"), ("C", "MiB"), ("H", "request")):
        brow(f"{wl} proxy CPU (µs per {per})", cpu.get((wl, "boundary")), cpu.get((wl, "baseline")),
             1, False)
    for k, label in (("Dwarm", "D seen name (ms)"), ("Dnew", "D new name (ms)"),
                     ("Dnagle", "D seen name, without TCP_NODELAY (ms)")):
        brow(label, g((k, "boundary")), g((k, "baseline")), 2, False)
    for n in e_sizes:
        brow(f"E KiB per idle connection ({n})", g(("E%d" % n, "boundary")),
             g(("E%d" % n, "baseline")), 1, False)
    brow("F start-up overhead, minus `true` (ms)", g("F"), g("Fbase"), 1, False)
    if "concurrent-baseline" in fconc:
        brow(f"F {fconc['concurrent'][3]:.0f} jails at once (ms)", g("Fconc"),
             fconc["concurrent-baseline"][0], 0, False)
    if "idle-baseline" in fidle:
        brow("F one idle jail, boundary's RSS (KiB)", g("Fidle"), fidle["idle-baseline"][0], 0, False)
    for (_, n, kind) in sorted(k for k in fig if isinstance(k, tuple) and k[0] == "G"):
        brow(f"G decisions/s, {n:,} rules, {kind}".replace(f"{n:,}", f"{n:,}".replace(",", " ")),
             g(("G", n, kind)),
             g(("Gbase", n, kind)), 0, True)
    BL.append("")
    if quick:
        BL.append("*A quick run: its ranges are wide; compare builds with a full run before "
                  "concluding anything from a few per cent.*")
out[summary_at:summary_at] = S + BL

# --- what the profiles showed ----------------------------------------------------------------------

w("## Where boundary's time goes\n")
w("Found with `perf record`, `strace -c` and `perf stat` on this machine (November 2026); what was")
w("found and fixed, and what is left:\n")
w("- **A, C (keep-alive)**: about two thirds of boundary's CPU is in the kernel (loopback TCP: a")
w("  proxy doubles the hops, and every `write(2)` runs the receiver's TCP input too), much of it in")
w("  the hypervisor's interrupt enabling on this VM. Fixed: OpenSSL read-ahead (a read per record,")
w("  not a header read and a body read): 4 system calls per request, was about 11. boundary's own")
w("  code (parser, rules, audit) is about 6 % of its samples. Left, and why: an intercepting proxy")
w("  decrypts and re-encrypts every byte twice (client side and upstream side) where nginx does it")
w("  once, and sends it over two loopback connections where `direct` uses one; pinned on the same")
w("  core as nginx, the sum of the two is the ceiling shown under A and C, so the ratio to `direct`")
w("  is bounded by nginx's own cost, not only boundary's. boundary is at about 0.8× the relay")
w("  (which does no HTTP work at all) on A and level with it on C. kTLS would move the record crypto into the kernel but not")
w("  remove it; it is not used (Debian 12's OpenSSL 3.0 offloads only the sending side of TLS 1.3).")
w("  C moves with the machine's load between runs (0.44 to 0.52× direct in the last two quick runs)")
w("  while staying at 1.05× the relay in both.")
w("- **B**: fixed: boundary issued no session tickets, so a reconnecting client paid a full")
w("  handshake every time; it now issues one per connection.")
w("- **D**: fixed: accepted sockets now set `TCP_NODELAY` (a client without it waited 40 ms for")
w("  a delayed ACK). For a seen name boundary reuses an idle upstream connection. For a new one it")
w("  opened the upstream connection only once the request had been read and allowed, so the")
w("  upstream TCP and TLS handshakes followed the client's (about 4.1 ms against direct's 1.5).")
w("  Fixed: a *head start* opens it at the ClientHello when a rule allows the TLS server name by")
w("  name (any method or path), and the request is still decided before any of it is sent; the")
w("  new-name figure fell to about 3 ms. A name only a wildcard rule allows is still contacted")
w("  only for an allowed request. Left: the two handshakes overlap in time but not in CPU, since")
w("  boundary and nginx share one core here; minting the leaf (one ECDSA signature; leaves share")
w("  one key) and resolving the name are about 0.2 ms of what remains.")
w("- **E**: fixed: an idle connection gives back its buffers and OpenSSL's record buffers after")
w("  1 s, and parsed headers no longer live in every connection (105 to 37 KiB in that run). The")
w("  46 KiB measured later was not a regression: a build from before this round's features")
w("  (b2239fc) measured 47 KiB beside the current one in one run. Left was the idle connection's own")
w("  upstream TLS connection (its SSL object, session and the server's certificate, about 17 KiB):")
w("  fixed: after the same second it goes to the worker's pool of idle upstream connections (64")
w("  at most), where any client can use it, or is closed. About 30 KiB per idle connection stays,")
w("  most of it the client side's OpenSSL objects and boundary's connection record.")
w("- **F**: fixed: the pending-connection LRU map is 16384 entries (it is filled in full at")
w("  creation), the jail's CA bundle is copied rather than parsed and no longer fsynced (it lives")
w("  under /run; the two fsyncs were about 6 ms), upstream verification loads CAs from the hashed")
w("  directory on demand, also when `SSL_CERT_FILE` names the default bundle as many images set it")
w("  (parsing it was about 30 ms). Left, from a profile of 30 starts: loading and verifying the 13")
w("  BPF programs and creating their maps (about a fifth of the CPU), the kernel's static-key")
w("  patching (`text_poke` with cross-CPU synchronisation, expensive on this VM) when each of the")
w("  13 cgroup attach types gets its first link and again when it loses its last (about a tenth),")
w("  the dynamic linker (about a tenth: OpenSSL, libbpf, c-ares, libyaml), page faults of the")
w("  processes started, and OpenSSL's own initialisation. 12 ms is below the cost of these kernel")
w("  operations here; reaching it would take programs loaded once and shared by every jail (a")
w("  parent cgroup's links, maps keyed by jail), a larger change to the lifetime design than this")
w("  issue's scope. Issue 21 (a profile of 6 starts, December 2026, in shares of boundary's own")
w("  CPU): libbpf's load of the skeleton 75-78 %, most of it parsing the kernel's BTF (55-58 %);")
w("  the jail's processes and mounts 4-6 %, the proxy's threads 4 %, the teardown 2-3 %, the")
w("  dynamic linker 2.5 % (about 0.9 ms; c-ares's share of it 0.1 ms, so it stays linked). Fixed:")
w("  the CA was parsed, checked and given a leaf key at every start and its bundle written through")
w("  OpenSSL (11 % together); the CA is now parsed at the first TLS handshake and the bundle")
w("  copied as bytes (1 %). Left: OpenSSL's initialisation and the TLS contexts (about 3 %), which")
w("  the connection code would have to create at the first handshake too. And the BPF load itself")
w("  is off the path (docs/ARCHITECTURE.md \"The shared set\"): a jail is an entry in programs")
w("  loaded once on `<cgroup2>/boundary`; only the first jail of a boot (or of a new BPF ABI) loads")
w("  them. F above is the median of starts that find the set loaded.\n")

# --- the machine and the commands ----------------------------------------------------------------

w("## Comparing two builds\n")
w("To check that a change leaves A to G no worse, measure the old build beside the new one in one")
w("run: build the old commit in a worktree of its own and name its build directory as `BASELINE`.")
w("It becomes the path `baseline`, run exactly as `boundary` is (F with its `boundary`, G with its")
w("`tools/rules_bench` if built), and the report gains *Against the baseline build*, boundary ÷")
w("baseline for every workload. With `BASELINE`, the report goes to")
w("`build/bench-baseline/BENCHMARKS.md` (charts beside it) and this file is left as it is, unless")
w("`OUT` (and `CHARTS`) name another place. A build from before the shared sets of programs")
w("(issue 21) cannot be the baseline: this build's set refuses its jails (docs/ARCHITECTURE.md, \"The")
w("shared set\"); measure such a build in a run of its own, after `boundary cleanup`.\n")
w("```sh")
w("git worktree add /tmp/old REV && make -C /tmp/old all build/tools/rules_bench")
w("sudo make bench BASELINE=/tmp/old/build          # QUICK=1 for a short run")
w("git worktree remove --force /tmp/old")
w("```\n")
w("## Machine, versions and commands\n")
w("```")
for k in ("cpu", "cores", "memory", "kernel", "os", "boundary", "nginx", "squid", "mitmproxy",
          "wrk", "h2load", "openssl"):
    w(f"{k:10} {M.get(k, '?')}")
    if k == "boundary" and BASELINE:
        w(f"{'baseline':10} {M.get('baseline', '?')}")
w("```\n")
w("Pinning: the client on CPU 0; nginx, every proxy (boundary's whole process, its worker threads")
w("included) on CPU 1, so a proxy competes with the upstream, not with the client. boundary's")
w("proxy starts one worker thread per online CPU (two here), whatever the affinity.\n")
w("Every path serves the same client, run as uid %s from a runner kept for the whole run;" % M["buid"])
w("the order of the paths rotates by one each repetition. Commands, with `$U` the upstream's port:\n")
w("```sh")
w(f"# A\nwrk -t1 --timeout 10s --latency -d{M['dur']}s -c {M['a_conns']} https://bench.test:$U/small")
w(f"# B\nwrk -t1 --timeout 10s --latency -d{M['dur']}s -c {M['b_conns']} -H 'Connection: close' https://bench.test:$U/small")
w(f"# C\nwrk -t1 --timeout 10s --latency -d{M['dur']}s -c {M['c_conns']} https://bench.test:$U/big")
if M.get("h_reqs"):
    w(f"# H (client h2: ALPN), $H the upstream's h2 listener\nh2load -n {M['h_reqs']} -c {M['h_conns']} "
      f"-m {M['h_streams']} -N 10s --log-file=LOG https://bench.test:$H/small")
w(f"# D (build/tools/ttfb, tools/bench/ttfb.c), {M['d_samples']} names per repetition")
w("ttfb [-n] -c CA $U /small bench.test ...        # seen name (-n: without TCP_NODELAY)")
w("ttfb -c CA $U /small n1.bench.test n2.bench.test ...   # new names")
w("# E (build/tools/idleconns, tools/bench/idleconns.c): N connections, 64 handshakes in flight")
w("idleconns N 64 900 bench.test $U /small READYFILE RELEASEFILE")
w("# the proxies (pinned with taskset -c 1)")
w("boundary --upstream-ca CA --user %s:%s --allow domain=bench.test --allow 'domain=*.bench.test' -- taskset -c 0 RUNNER" % (M["buid"], M["buid"]))
w("nginx -c relay.conf     # stream { server { listen ssl; proxy_pass ...; proxy_ssl on; proxy_ssl_verify on; } }")
w("                        # H: http { server { listen ssl http2; proxy_pass https://(keepalive 64); proxy_http_version 1.1; proxy_ssl_verify on; } }")
w("squid -N -f squid.conf  # https_port ... intercept ssl-bump generate-host-certificates=on; ssl_bump peek step1; ssl_bump bump all")
w("mitmdump -q --mode transparent --listen-host 127.0.0.1 --listen-port P --set ssl_verify_upstream_trusted_ca=CA")
w("iptables -t nat -A OUTPUT -p tcp -d 127.0.0.1X --dport $U -m owner --uid-owner %s -j REDIRECT --to-ports P" % M["buid"])
w("```\n")
w("The full configurations are written by `tools/bench/run` (functions `setup_upstream`,")
w("`setup_relay`, `setup_squid`, `setup_mitmproxy`); the names resolve through a hosts file")
w("bind-mounted over `/etc/hosts` in each runner's mount namespace (and boundary's), with no")
w("nameserver reachable, so nothing leaves the machine.\n")
if quick:
    w("*A quick run (`QUICK=1`): few, short repetitions; the ranges are wide. Run `sudo make bench`")
    w("for the figures to quote.*\n")

os.makedirs(os.path.dirname(OUT) or ".", exist_ok=True)
with open(OUT, "w") as f:
    f.write("\n".join(out).rstrip() + "\n")

# --- charts ----------------------------------------------------------------------------------------

os.makedirs(CHARTS, exist_ok=True)
tmp = os.path.join(RES, "plot")
os.makedirs(tmp, exist_ok=True)


def bars(name, title, ylabel, series):
    """series: list of (path, median, lo, hi)"""
    if all(m is None for _, m, _, _ in series):
        return  # a workload this run did not measure (BENCH_ONLY)
    dat = os.path.join(tmp, name + ".dat")
    with open(dat, "w") as f:
        for p, m, lo, hi in series:
            if m is not None:
                f.write(f'"{p}" {m} {lo if lo is not None else m} {hi if hi is not None else m}\n')
    script = f"""
set terminal pngcairo size 720,360 font ",10"
set output "{os.path.join(CHARTS, name + '.png')}"
set title "{title}"
set ylabel "{ylabel}"
set style fill solid 0.6 border -1
set boxwidth 0.6
set yrange [0:*]
set grid ytics
unset key
plot "{dat}" using 0:2:xtic(1) with boxes lc rgb "#4477aa", \\
     "" using 0:2:3:4 with yerrorbars lc rgb "#222222" pt 0
"""
    subprocess.run(["gnuplot"], input=script, text=True, check=True)


def series(wl, idx, scale=1.0, paths=PATHS):
    s = []
    for p in paths:
        v = [x * scale for x in col(f"{wl}.{p}", idx)]
        lo, hi = rng(v)
        s.append((p, med(v), lo, hi))
    return s


bars("a", "A: keep-alive, 200 B, %s connections (median, range)" % M["a_conns"], "requests/s", series("A", 0))
bars("b", "B: new TLS connection per request, %s concurrent" % M["b_conns"], "requests/s", series("B", 0))
bars("c", "C: 1 MiB responses over keep-alive", "MiB/s", series("C", 3, 1 / 1048576))
bars("h", "H: HTTP/2, %s streams on each of %s connections (median, range)"
     % (M.get("h_streams", "?"), M.get("h_conns", "?")), "requests/s", series("H", 0, paths=H_PATHS))
dat = os.path.join(tmp, "d.dat")
with open(dat, "w") as f:
    for p in PATHS:
        f.write(f'"{p}" {fig.get(("Dwarm", p)) or 0} {fig.get(("Dnew", p)) or 0}\n')
subprocess.run(["gnuplot"], text=True, check=True, input=f"""
set terminal pngcairo size 720,360 font ",10"
set output "{os.path.join(CHARTS, 'd.png')}"
set title "D: time to first byte of a fresh TLS connection (median)"
set ylabel "ms"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.6 border -1
set yrange [0:*]
set grid ytics
set key top left
plot "{dat}" using 2:xtic(1) title "seen name" lc rgb "#4477aa", "" using 3 title "new name" lc rgb "#ee6677"
""")
if e_big:
    bars("e", "E: proxy memory per idle intercepted connection (%d connections)" % e_big,
         "KiB per connection",
         [(p, g(("E%d" % e_big, p)), None, None) for p in PATHS if p != "direct"])
