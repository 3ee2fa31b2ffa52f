"""`fastpath result export|import|plot`: raw samples out and in, and a picture of the sessions."""

from __future__ import annotations

import json
import sys

import click

from fastpath.cli.output import ExitStatus, emit_json, fail, json_option, reports_errors

PLOT_MISSING = ("result plot needs matplotlib, an optional extra: "
                "pip install 'fastpath-scheduler[plot]' (or pip install matplotlib)")


def register(group: click.Group) -> None:
    @group.command("export")
    @click.argument("store")
    @click.option("--plan", "plans", multiple=True, type=click.IntRange(min=1), required=True,
                  help="The plan whose results to export (repeatable).")
    @click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
    @click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write here, not to stdout.")
    @reports_errors
    def export(store: str, plans: tuple[int, ...], fmt: str, output: str | None) -> None:
        """Write the raw samples of plans in STORE: one row per metric per repeat."""
        from fastpath.results import export as ex
        from fastpath.results.backend import Filters, open_store

        s = open_store(store)
        try:
            rows = ex.records(s, Filters(plans=plans))
        finally:
            s.close()
        if not rows:
            fail(f"no results of plan(s) {', '.join(map(str, plans))} in {store}", ExitStatus.NOT_FOUND)
        text = ex.to_csv(rows) if fmt == "csv" else json.dumps(
            {"status": "success", "columns": list(ex.COLUMNS), "samples": rows}, indent=1) + "\n"
        if output:
            with open(output, "w", newline="") as f:
                f.write(text)
        else:
            sys.stdout.write(text)

    @group.command("import")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False))
    @click.argument("store")
    @json_option
    @reports_errors
    def import_(file: str, store: str, as_json: bool) -> None:
        """Publish the samples of an export FILE (csv or json) into STORE (created if missing)."""
        from fastpath.results import export as ex
        from fastpath.results.backend import open_store

        with open(file, newline="") as f:
            text = f.read()
        rows = json.loads(text)["samples"] if text.lstrip().startswith("{") else ex.from_csv(text)
        s = open_store(store, create=True)
        try:
            added = sum(s.publish(m) for m in ex.manifests(rows))
        finally:
            s.close()
        if as_json:
            return emit_json({"status": "success", "added": added})
        click.echo(f"Imported {len(rows)} samples into {store}: {added} rows added.")

    @group.command("plot")
    @click.argument("store")
    @click.option("--plan", "plans", multiple=True, type=click.IntRange(min=1), required=True,
                  help="The plan whose results to draw (repeatable).")
    @click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
                  help="The picture to write: FILE.svg or FILE.png.")
    @reports_errors
    def plot(store: str, plans: tuple[int, ...], output: str) -> None:
        """Draw each session mean per swprofile, with the 95% interval, per benchmark metric."""
        if not output.endswith((".svg", ".png")):
            fail("-o: the file must end in .svg or .png", ExitStatus.USAGE)
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            fail(PLOT_MISSING, ExitStatus.ERROR)
        from fastpath.results import analysis
        from fastpath.results.backend import Filters, open_store

        s = open_store(store)
        try:
            grouped = analysis.groups(s.aggregate(Filters(plans=plans)))
            benches = {r["id"]: f"{r['suite']}/{r['name']}" for r in s.rows("benchmark")}
        finally:
            s.close()
        if not grouped:
            fail(f"no results of plan(s) {', '.join(map(str, plans))} in {store}", ExitStatus.NOT_FOUND)
        panels: dict[tuple[str, str], dict[str, list]] = {}
        for (bench, rc, sw), parts in sorted(grouped.items()):
            panels.setdefault((bench, rc), {})[sw] = parts
        fig, axes = plt.subplots(len(panels), 1, figsize=(7, 2.6 * len(panels)), squeeze=False)
        for ax, ((bench, rc), by_sw) in zip(axes[:, 0], panels.items(), strict=True):
            for i, (_sw, parts) in enumerate(sorted(by_sw.items())):
                m = analysis.summarise(parts)
                ax.plot([i] * len(m.session_means), m.session_means, "o", alpha=0.6)
                if m.ci95min is not None and m.ci95max is not None:
                    ax.errorbar([i + 0.15], [m.mean], yerr=[[m.mean - m.ci95min], [m.ci95max - m.mean]],
                                fmt="s", color="black", capsize=4)
            ax.set_xticks(range(len(by_sw)), sorted(by_sw))
            ax.set_title(f"{benches.get(bench, bench)}: {rc}", fontsize=9)
            ax.set_ylabel("session mean")
        fig.tight_layout()
        fig.savefig(output)
        plt.close(fig)
        click.echo(f"Wrote {output}: {len(panels)} panel(s).")
