"""`fastpath result list|show|merge`: what a resultstore holds, and what it says."""

from __future__ import annotations

import fnmatch
from collections.abc import Collection

import click

from fastpath.cli.output import ExitStatus, emit_json, fail, json_option, reports_errors

NONE = "<none>"
FIELDS = {
    "swprofile": [("ID", "id"), ("Content Hash", "content_hash"), ("Kernel Name", "kernel_name"),
                  ("Kernel Git SHA", "kernel_git_sha"), ("Kernel", "kernel_digest"),
                  ("Modules", "modules_digest"), ("Userspace", "userspace"), ("cmdline", "cmdline"),
                  ("sysctl", "sysctl"), ("bootscript", "bootscript")],
    "sut": [("ID", "id"), ("Host Name", "host_name"), ("Architecture", "architecture"),
            ("CPU Count", "cpu_count"), ("CPU Model", "cpu_model"), ("Product Name", "product_name")],
    "benchmark": [("ID", "id"), ("Suite", "suite"), ("Name", "name"), ("Type", "type"),
                  ("Image", "image"), ("Params", "params"), ("Params Hash", "params_hash")],
}
LEGEND = ("Changes are of the mean of session means, relative to the first swprofile, with their 95% "
          "interval and the p-value of Welch's t-test over session means (two-sided). better/worse: "
          "p < 0.05; ~: not significant; ?: fewer than 2 sessions; weak: fewer than 3 sessions on a side.")


def box(headers: list[str] | None, rows: list[list[str]], right: Collection[int] = frozenset()) -> str:
    """A table drawn with +, - and |, as Fastpath prints them."""
    all_rows = ([headers] if headers else []) + rows
    widths = [max(len(r[i]) for r in all_rows) for i in range(len(all_rows[0]))]
    line = "+" + "+".join("-" * (w + 2) for w in widths) + "+"

    def fmt(row):
        cells = [c.rjust(w) if i in right else c.ljust(w)
                 for i, (c, w) in enumerate(zip(row, widths, strict=True))]
        return "| " + " | ".join(cells) + " |"

    out = [line]
    if headers:
        out += [fmt(headers), line]
    for row in rows:
        out += [fmt(row), line] if not headers else [fmt(row)]
    if headers:
        out.append(line)
    return "\n".join(out)


def _instant(text: str | None, option: str) -> str | None:
    """An ISO date or date-time (UTC unless it says otherwise) as stored: YYYY-MM-DDTHH:MM:SSZ."""
    if text is None:
        return None
    from datetime import UTC, datetime

    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        fail(f"{option} {text!r}: expected a date or date-time such as 2026-12-01 or "
             "2026-12-01T08:30:00Z", ExitStatus.USAGE)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def scope_options(f):
    """--plan, --since and --until: which plans' and which time's results count."""
    f = click.option("--until", help="Only results collected before this UTC date or date-time.")(f)
    f = click.option("--since", help="Only results collected at or after this UTC date or date-time.")(f)
    return click.option("--plan", "plans", multiple=True, type=click.IntRange(min=1),
                        help="Only results of this plan (repeatable).")(f)


def _scope(plans: tuple[int, ...], since: str | None, until: str | None) -> dict:
    return {"plans": tuple(plans), "since": _instant(since, "--since"), "until": _instant(until, "--until")}


def _plans_notice(aggregates, plans: tuple[int, ...]) -> str | None:
    """One line when the results pooled come from several plans that were not asked for."""
    found = sorted({a.plan_id for a in aggregates}, key=lambda p: (p is None, p or 0))
    if plans or len(found) < 2:
        return None
    names = ", ".join("none" if p is None else str(p) for p in found)
    return f"Note: these results pool {len(found)} plans ({names}); name one with --plan ID."


@click.group()
def result() -> None:
    """List, analyse and merge resultstores (csv:///dir, sqlite:///file, mysql://...)."""


@result.command("list")
@click.argument("store")
@click.option("--object", "kind", required=True, type=click.Choice(["sut", "swprofile", "benchmark"]),
              help="Which objects to list.")
@click.option("--id", "glob", help="Only objects whose ID matches this glob.")
@scope_options
@json_option
@reports_errors
def list_(store: str, kind: str, glob: str | None, plans: tuple[int, ...], since: str | None,
          until: str | None, as_json: bool) -> None:
    """List the SUTs, swprofiles or benchmarks in STORE with their metadata."""
    from fastpath.results.backend import Filters, open_store

    scope = _scope(plans, since, until)
    s = open_store(store)
    try:
        rows = [r for r in s.rows(kind) if glob is None or fnmatch.fnmatchcase(r["id"], glob)]
        if plans or since or until:  # only the objects the scoped results and errors name
            f = Filters(**scope)
            used = {getattr(a, kind) for a in s.aggregate(f)} | {e[kind] for e in s.errors(f)}
            rows = [r for r in rows if r["id"] in used]
    finally:
        s.close()
    if glob is not None and not rows:
        fail(f"no {kind} in {store} has an ID matching {glob!r}", ExitStatus.NOT_FOUND)
    if as_json:
        return emit_json({"status": "success", "objects": rows})
    click.echo("\n".join(box(None, [[label, _text(r.get(key))] for label, key in FIELDS[kind]])
                         for r in rows))


def _text(value) -> str:
    return NONE if value is None or value == "" else str(value)


def _num(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def _pct(x: float | None, mean: float) -> str:
    return "-" if x is None or not mean else f"{(x - mean) / abs(mean) * 100:.2f}%"


@result.command()
@click.argument("store")
@click.option("--swprofile", "swprofiles", multiple=True,
              help="A swprofile ID (repeat it to compare several against the first).")
@click.option("--benchmark", help="Only benchmarks whose suite/name matches this glob.")
@click.option("--sut", help="Only results from SUTs whose ID matches this glob.")
@click.option("--relative", is_flag=True,
              help="Show min, confidence interval and max relative to the mean.")
@click.option("--errors", "errors", is_flag=True,
              help="List the failed benchmark runs instead: plan, job, session and message.")
@scope_options
@json_option
@reports_errors
def show(store: str, swprofiles: tuple[str, ...], benchmark: str | None, sut: str | None,
         relative: bool, errors: bool, plans: tuple[int, ...], since: str | None, until: str | None,
         as_json: bool) -> None:
    """Statistics of the results in STORE, or a comparison of swprofiles."""
    from fastpath.results import analysis
    from fastpath.results.backend import Filters, open_store

    scope = _scope(plans, since, until)
    s = open_store(store)
    try:
        if errors:
            return _errors(s, Filters(swprofiles, benchmark, sut, **scope), as_json)
        if swprofiles:
            swprofiles = _resolve_swprofiles(s, store, swprofiles, Filters(**scope))
        aggregates = s.aggregate(Filters(swprofiles, benchmark, sut, **scope))
        benches = {r["id"]: r for r in s.rows("benchmark")}
        suts = {r["id"]: r for r in s.rows("sut")}
        classes = {(r["benchmark"], r["name"]): r for r in s.rows("resultclass")}
        notes = s.notes({a.plan_id for a in aggregates})
    finally:
        s.close()
    if not aggregates:
        fail(f"no results in {store} match", ExitStatus.NOT_FOUND)
    labels = _bench_labels(benches)
    notice = _plans_notice(aggregates, plans)
    if notice and not as_json:
        click.echo(notice)
    placement_notes = [f"Note: plan {plan}: {text}." for plan in sorted(notes) for text in notes[plan]]
    if not as_json:
        for line in placement_notes:
            click.echo(line)
    rows = []
    grouped = analysis.groups(aggregates)
    for bench, rclass, sw in sorted(grouped, key=lambda k: (labels[k[0]], k[1], k[2])):
        rc = classes.get((bench, rclass), {})
        rows.append({"benchmark": labels[bench], "benchmark_id": bench,
                     "resultclass": rclass, "unit": rc.get("unit"),
                     "improvement": rc.get("improvement"), "swprofile": sw,
                     "summary": analysis.summarise(grouped[(bench, rclass, sw)])})
    if len(swprofiles) > 1:
        _comparison(rows, list(swprofiles), as_json, _placement_warnings(aggregates, swprofiles, suts),
                    placement_notes)
    else:
        _statistics(rows, relative, as_json, placement_notes)


ERROR_HEADERS = ["Plan", "Job", "Session", "Swprofile", "SUT", "Benchmark", "Run", "Code", "Time",
                 "Message"]


def _errors(s, filters, as_json: bool) -> None:
    """Each failed run: a non-zero exit, a timeout, a missing or malformed results.csv."""
    labels = _bench_labels({r["id"]: r for r in s.rows("benchmark")})
    rows = sorted(s.errors(filters), key=lambda e: (e["plan_id"] or 0, e["job_id"] or 0,
                                                    e["session_id"], e["benchmark"], e["idx"]))
    docs = [{**e, "benchmark_id": e["benchmark"], "benchmark": labels.get(e["benchmark"], e["benchmark"])}
            for e in rows]
    if as_json:
        return emit_json({"status": "success", "errors": docs})
    if not docs:
        return click.echo("No failed runs match.")
    click.echo(box(ERROR_HEADERS, [
        [_text(e["plan_id"]), _text(e["job_id"]), e["session_id"], e["swprofile"], e["sut"],
         e["benchmark"], f"{e['phase']} {e['idx']}", str(e["code"]), _text(e["timestamp"]),
         " ".join(str(e["message"]).split())] for e in docs], right={0, 1, 7}))


def _resolve_swprofiles(s, store: str, asked: tuple[str, ...], scope) -> tuple[str, ...]:
    """The swprofile IDs that `asked` names: an ID (`name` or `name~N`) is itself, unless the plain
    name stands for several contents among the results in scope: then it is refused, listing them."""
    rows = {r["id"]: r for r in s.rows("swprofile")}
    plans: dict[str, set] = {}
    for sw, plan in s.present(scope):
        plans.setdefault(sw, set()).add(plan)
    out = []
    for want in asked:
        if want in rows and "~" in want:  # an explicit name~N
            out.append(want)
            continue
        same = sorted((id for id, r in rows.items() if r["name"] == want and id in plans),
                      key=lambda id: (len(id), id))
        if len(same) == 1:
            out.append(same[0])
        elif len(same) > 1:
            listing = "; ".join(
                f"{id} (hash {rows[id]['content_hash'][:12]}, plans "
                f"{', '.join('none' if p is None else str(p) for p in sorted(plans[id], key=_plan_key))})"
                for id in same)
            fail(f"swprofile {want!r} stands for {len(same)} different contents: {listing}. "
                 "Name one by its ID, or narrow with --plan ID", ExitStatus.USAGE)
        elif want in rows:
            out.append(want)  # in the store, but no results in scope: nothing will match
        else:
            known = sorted(rows)
            fail(f"no swprofile {want!r} in {store}; known: {', '.join(known) or 'none'}",
                 ExitStatus.NOT_FOUND)
    return tuple(out)


def _plan_key(p):
    return (p is None, p or 0)


def _bench_labels(benches: dict[str, dict]) -> dict[str, str]:
    names = [f"{b['suite']}/{b['name']}" for b in benches.values()]
    return {id: (f"{b['suite']}/{b['name']}" if names.count(f"{b['suite']}/{b['name']}") == 1
                 else f"{b['suite']}/{b['name']} {b['params']}") for id, b in benches.items()}


def _class_label(row: dict) -> str:
    return f"{row['resultclass']} ({row['unit']})" if row["unit"] else row["resultclass"]


def _summary_doc(m) -> dict:
    return {**vars(m), "session_means": list(m.session_means), "cv": m.cv}


def _statistics(rows: list[dict], relative: bool, as_json: bool, notes: list[str]) -> None:
    if as_json:
        return emit_json({"status": "success", "unit_of_replication": "session", "statistics": [
            {**{k: v for k, v in r.items() if k != "summary"}, **_summary_doc(r["summary"])}
            for r in rows], "notes": notes})
    several = len({r["swprofile"] for r in rows}) > 1
    headers = ["Benchmark", "Result Class", *(["Swprofile"] if several else []),
               "min", "ci95min", "mean", "ci95max", "max", "within", "between", "sessions", "count"]
    table = []
    for r in rows:
        m = r["summary"]
        if relative:
            stats = [_pct(m.min, m.mean), _pct(m.ci95min, m.mean), _num(m.mean),
                     _pct(m.ci95max, m.mean), _pct(m.max, m.mean)]
        else:
            stats = [_num(m.min), _num(m.ci95min), _num(m.mean), _num(m.ci95max), _num(m.max)]
        spread = [_num(m.within), _num(m.between)]
        if relative:
            spread = [_pct(None if x is None else m.mean + x, m.mean) for x in (m.within, m.between)]
        table.append([r["benchmark"], _class_label(r), *([r["swprofile"]] if several else []),
                      *stats, *spread, str(m.sessions), str(m.count)])
    first = 3 if several else 2
    click.echo(box(headers, table, right=set(range(first, len(headers)))))


def _placement_warnings(aggregates, swprofiles, suts: dict[str, dict]) -> list[str]:
    """Where the compared swprofiles' sessions ran, and on which hardware."""
    from fastpath.results import comparability

    # by SUT name: the store keeps one row per fingerprint a SUT showed (`vm-01`, `vm-01~2`)
    name = {id: r.get("name") or id for id, r in suts.items()}
    sessions: dict[str, dict[str, set]] = {sw: {} for sw in swprofiles}
    for a in aggregates:
        if a.swprofile in sessions and a.sut is not None:
            sessions[a.swprofile].setdefault(name.get(a.sut, a.sut), set()).add(a.session)
    placement = {sw: {sut: len(ids) for sut, ids in by_sut.items()} for sw, by_sut in sessions.items()}
    kinds: dict[str, set[str]] = {}
    for id, r in suts.items():
        kinds.setdefault(name[id], set()).add(comparability.comparable_fingerprint(r.get("fingerprint")))
    return comparability.warnings(placement, {sut: " ".join(sorted(k)) for sut, k in kinds.items()})


def _comparison(rows: list[dict], swprofiles: list[str], as_json: bool, warnings: list[str],
                notes: list[str]) -> None:
    from fastpath.results import analysis

    groups: dict[tuple, dict] = {}
    for r in rows:
        groups.setdefault((r["benchmark"], _class_label(r), r["improvement"]), {})[r["swprofile"]] = r
    table, doc = [], []
    for (bench, label, improvement), by_sw in groups.items():
        base = by_sw.get(swprofiles[0])
        cells, entry = [], {"benchmark": bench, "resultclass": label, "changes": {}}
        for i, sw in enumerate(swprofiles):
            if sw not in by_sw:
                cells.append("-")
            elif i == 0:
                cells.append(_num(by_sw[sw]["summary"].mean))
                entry["baseline"] = {"swprofile": sw, "mean": by_sw[sw]["summary"].mean}
            elif base is None:
                cells.append(_num(by_sw[sw]["summary"].mean))
            else:
                change = analysis.compare(base["summary"], by_sw[sw]["summary"], improvement)
                cells.append(_change_cell(change))
                entry["changes"][sw] = {**vars(change), "sessions": by_sw[sw]["summary"].sessions,
                                        "base_sessions": base["summary"].sessions}
        table.append([bench, label, *cells])
        doc.append(entry)
    if as_json:
        return emit_json({"status": "success", "comparison": doc, "test": "welch over session means",
                          "alpha": analysis.ALPHA, "warnings": warnings, "notes": notes})
    right = set(range(2, 2 + len(swprofiles)))
    click.echo(box(["Benchmark", "Result Class", *swprofiles], table, right=right))
    click.echo(LEGEND)
    for line in warnings:
        click.echo(line)


def _change_cell(change) -> str:
    """`+4.12% [+1.02, +7.22] p=0.012 (better)`, weak marked."""
    mark = {"better": "better", "worse": "worse", "same": "~", "?": "?"}[change.verdict]
    if change.weak and change.verdict != "?":
        mark += ", weak"
    pct = "-" if change.percent is None else f"{change.percent:+.2f}%"
    if change.p is None:
        return f"{pct} ({mark})"
    interval = ("" if change.ci95min is None
                else f" [{change.ci95min:+.2f}, {change.ci95max:+.2f}]")
    return f"{pct}{interval} p={change.p:.3f} ({mark})"


@result.command()
@click.argument("stores", nargs=-1, required=True, metavar="SRC... DST")
@reports_errors
def merge(stores: tuple[str, ...]) -> None:
    """Copy everything from the SRC stores into DST (created if missing); sources are only read."""
    from fastpath.results.backend import open_store

    if len(stores) < 2:
        fail("give at least one source and the destination: fastpath result merge SRC... DST",
             ExitStatus.USAGE)
    *sources, target = stores
    dst = open_store(target, create=True)
    try:
        total = 0
        for url in sources:
            src = open_store(url)
            try:
                total += dst.merge_from(src)
            finally:
                src.close()
    finally:
        dst.close()
    click.echo(f"Merged {len(sources)} store(s) into {target}: {total} rows added.")



def _register_io() -> None:
    from fastpath.cli.result_io import register

    register(result)


_register_io()
