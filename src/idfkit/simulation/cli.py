"""``idfkit-sim``: run, work, collect and list simulations from the shell.

Exit codes, the same for every command:
  0    done, and every simulation involved succeeded
  1    done, but a simulation failed or is stale/missing/incomplete (see the output)
  2    bad arguments: a missing model, weather file or folder, or a study that cannot be used
  3    storage or engine trouble (unreachable endpoint, missing bucket, no permission,
       no EnergyPlus)
  130  interrupted (Ctrl-C); temporary folders are removed
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import idfkit
from idfkit.exceptions import EnergyPlusNotFoundError, IdfKitError
from idfkit.simulation._arguments import wrong_argument
from idfkit.simulation._display import rows_to_text
from idfkit.simulation.exceptions import (
    BucketNotFoundError,
    ConcurrentRunError,
    StorageConnectionError,
    StudyError,
)
from idfkit.simulation.fs.base import FileSystem, SupportsLocalPath
from idfkit.simulation.options import RunOptions
from idfkit.simulation.progress import SimulationProgress

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_TROUBLE, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
#: Where each engine puts a worker's index: AWS Batch array jobs, Kubernetes Indexed
#: Jobs, Slurm job arrays, Cloud Run jobs (the first one set wins).
INDEX_VARIABLES = (
    "AWS_BATCH_JOB_ARRAY_INDEX",
    "JOB_COMPLETION_INDEX",
    "SLURM_ARRAY_TASK_ID",
    "CLOUD_RUN_TASK_INDEX",
)

#: Storage or engine trouble anywhere in an error's chain wins over how it was wrapped
#: (a study whose bucket is missing is trouble, not a bad study).
_TROUBLE = (BucketNotFoundError, StorageConnectionError, PermissionError, EnergyPlusNotFoundError)
#: The exit code of an error, by the first class it derives from.
_EXIT_CODES: tuple[tuple[type[BaseException], int], ...] = (
    (StudyError, EXIT_USAGE),
    (ConcurrentRunError, EXIT_TROUBLE),  # another writer took the folder: not a bad argument
    (FileExistsError, EXIT_USAGE),  # a run that would overwrite a file it did not write
    (NotADirectoryError, EXIT_USAGE),  # a location that names a file where a folder goes
    (ValueError, EXIT_USAGE),
    (TypeError, EXIT_USAGE),
    (OSError, EXIT_TROUBLE),
    (IdfKitError, EXIT_TROUBLE),
)
#: How the command line spells each keyword an error can name (`argument_error`): the
#: option's dest (the flag applies when the command has it), the flag or argument as
#: typed, and the advice in its words ({value}: the value as typed; None keeps the
#: error's own). Run options are spelled by `_option_flag`.
_FLAGS: dict[str, tuple[str, str, str | None]] = {
    "overwrite": ("overwrite", "--overwrite", "pass --overwrite to replace it"),
    "edit": (
        "edit",
        "--edit",
        "or give --edit MODULE:FUNCTION (a function that edits the model) to set it yourself",
    ),
    "output_dir": ("output", "--output", "choose another --output"),
    "model": ("model", "MODEL", "the model comes first: MODEL WEATHER"),
    "weather": ("weather", "WEATHER", "the model comes first: MODEL WEATHER"),
    "endpoint_url": ("endpoint_url", "--endpoint-url", "write it with its scheme: http://{value}"),
    "study": (
        "study",
        "STUDY",
        "write the study again with the idfkit that will run it "
        "(idfkit-sim study create ... --overwrite)",
    ),
}
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
#: Characters a terminal may act on: C0 and C1 controls, DEL, and bidirectional overrides.
_ACTIVE = "\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069"
_CONTROL = re.compile(f"[{_ACTIVE}]")
_CONTROL_OR_BREAK = re.compile(f"[\t\n{_ACTIVE}]")  # in a table cell, line breaks too


def terminal_safe(text: str, *, newlines: bool = True) -> str:
    """Stored text made harmless to print: each control character shown as its escape.

    Manifests, .err files and study indexes come from storage, so a crafted
    one could otherwise send escape sequences to the user's terminal.

    Args:
        text: The text to print.
        newlines: Keep line breaks (and tabs); False escapes them too (a table cell).
    """
    pattern = _CONTROL if newlines else _CONTROL_OR_BREAK
    return pattern.sub(lambda m: repr(m.group())[1:-1], text)


def _safe_rows(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            terminal_safe(str(k), newlines=False): (
                terminal_safe(v, newlines=False) if isinstance(v, str) else v
            )
            for k, v in row.items()
        }
        for row in rows
    ]


class _UsageError(Exception):
    """A bad argument found by the command itself (exit 2, message as given)."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``idfkit-sim`` command line; returns its exit code.

    Args:
        argv: The arguments after the program name; None reads ``sys.argv``.
    """
    try:
        return _main(argv)
    except KeyboardInterrupt:
        # The run's own cleanup (temporary folders, the EnergyPlus process group) has
        # already happened while the interrupt unwound; say no more than that.
        print("idfkit-sim: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _main(argv: Sequence[str] | None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_USAGE
    args.locations = {}  # repr of each FileSystem made here -> the location the user typed
    command = " ".join(filter(None, (args.command, getattr(args, "study_command", None))))
    try:
        code: int = args.handler(args)
        return code
    except _UsageError as exc:
        print(f"idfkit-sim {command}: {terminal_safe(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:
        mapped = exit_code_for(exc)
        if mapped is None:
            raise
        text = terminal_safe(_message(exc, args))  # it may quote stored text
        print(f"idfkit-sim {command}: {text}", file=sys.stderr)
        return mapped


def exit_code_for(exc: BaseException) -> int | None:
    """The documented exit code for an error, or None for a bug (shown as a traceback).

    Args:
        exc: The error a command raised.
    """
    if isinstance(exc, ImportError) and "pip install" in str(exc):
        return EXIT_TROUBLE  # an optional extra is missing: its message names it
    link: BaseException | None = exc
    while link is not None:
        if isinstance(link, _TROUBLE):
            return EXIT_TROUBLE
        link = link.__cause__
    return next((code for kind, code in _EXIT_CODES if isinstance(exc, kind)), None)


def _message(exc: BaseException, args: argparse.Namespace) -> str:
    """The error's text in the command's words.

    A keyword the error names is replaced by its flag (`_FLAGS`), and storage
    is named as the user typed it rather than as a Python repr.
    """
    text = str(exc) or type(exc).__name__
    wrong = wrong_argument(exc)
    spelled = _spelling(wrong.parameter) if wrong is not None else None
    if wrong is not None and spelled is not None and spelled[0] in vars(args):
        dest, flag, advice = spelled
        text = wrong.text(flag, advice and advice.format(value=getattr(args, dest)))
    locations: dict[str, str] = args.locations
    for shown, typed in locations.items():
        text = text.replace(shown, typed)
    return text


def _spelling(parameter: str) -> tuple[str, str, str | None] | None:
    """How the command line spells a keyword (see `_FLAGS`), or None if it has no flag."""
    if parameter in _FLAGS:
        return _FLAGS[parameter]
    if parameter in RunOptions.names():
        return parameter, _option_flag(parameter), None
    return None


def _option_flag(name: str) -> str:
    """The flag of a run option: ``--timeout``, ``--no-expand-objects``, ``--extra-arg``."""
    dashed = name.replace("_", "-")
    if getattr(RunOptions(), name) is True:
        return f"--no-{dashed}"
    return "--extra-arg" if name == "extra_args" else f"--{dashed}"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="idfkit-sim",
        description="Run EnergyPlus simulations and keep their results on local disk or S3.",
        epilog=__doc__.split("\n", 1)[1] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"idfkit-sim {idfkit.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = commands.add_parser("run", help="run one simulation", description="Run one simulation.")
    run.add_argument("model", help="an .idf or .epJSON file")
    run.add_argument("weather", help="an .epw file (local, or a path inside --output's storage)")
    run.add_argument("--output", "-o", required=True, help="s3://bucket/prefix/run-001 or a folder")
    _run_options(run)
    _progress_option(run)
    _storage_options(run)
    run.set_defaults(handler=_run)

    worker = commands.add_parser(
        "worker",
        help="run job N of a study (for AWS Batch / Kubernetes workers)",
        description="Run one job of a study. N comes from --index, else from "
        + " or ".join(INDEX_VARIABLES)
        + ". A job that already succeeded is skipped unless --force.",
    )
    worker.add_argument("--study", required=True, help="s3://bucket/prefix or a folder")
    worker.add_argument("--index", type=int, default=None, help="the job index N")
    worker.add_argument("--force", action="store_true", help="run even if it already succeeded")
    _progress_option(worker)
    _storage_options(worker)
    worker.set_defaults(handler=_worker)

    collect = commands.add_parser(
        "collect",
        help="status of every job of a study",
        description="One row per planned job; exits 1 unless all succeeded.",
    )
    collect.add_argument("study", help="s3://bucket/prefix or a folder")
    collect.add_argument("--json", action="store_true", help="print JSON instead of a table")
    collect.add_argument(
        "--output",
        "-o",
        type=Path,
        help="also write the study's table (parameters, metrics) to a .parquet, .csv or .json file",
    )
    _storage_options(collect)
    collect.set_defaults(handler=_collect)

    study = commands.add_parser("study", help="prepare a study", description="Prepare a study.")
    study_commands = study.add_subparsers(dest="study_command", metavar="SUBCOMMAND", required=True)
    create = study_commands.add_parser(
        "create",
        help="a study from a base model and a parameter grid (the full factorial)",
        description="Write a study of every combination of the --param values. Each NAME is a "
        "field as ObjectType:Name:field, or any name when --edit gives a function that edits "
        "the model.",
    )
    create.add_argument("study", help="s3://bucket/prefix or a folder")
    create.add_argument("model", help="the base model (.idf or .epJSON)")
    create.add_argument("weather", help="an .epw file")
    create.add_argument(
        "--param",
        action="append",
        required=True,
        metavar="NAME=V1,V2,...",
        help="a parameter and its values (JSON numbers or strings); repeat for more",
    )
    create.add_argument("--edit", metavar="MODULE:FUNCTION", help="edit(model, parameters)")
    _run_options(create)
    create.add_argument("--overwrite", action="store_true", help="replace an existing study")
    _storage_options(create)
    create.set_defaults(handler=_study_create)

    ls = commands.add_parser("ls", help="list a folder", description="List names in a folder.")
    ls.add_argument("location", help="s3://bucket/prefix/dir or a folder")
    ls.add_argument("--pattern", default="*", help="fnmatch pattern (default *)")
    _storage_options(ls)
    ls.set_defaults(handler=_ls)

    demo = commands.add_parser(
        "demo",
        help="a parametric study on an embedded S3 server (or your own)",
        description="Prepare, run and collect a parametric study of the box model. With no "
        "arguments an S3 server is started on 127.0.0.1; name a real bucket with an s3:// URL "
        "or --bucket.",
    )
    demo.add_argument(
        "location",
        nargs="?",
        help="s3://bucket/prefix, az://container/prefix or gs://bucket/prefix to use instead",
    )
    demo.add_argument(
        "--endpoint-url",
        help="S3 endpoint (MinIO, LocalStack, ...), Azure account URL, or GCS emulator",
    )
    demo.add_argument("--bucket", help="bucket (with --endpoint-url or AWS credentials)")
    demo.add_argument("--prefix", default="idfkit-demo/", help="key prefix (default idfkit-demo/)")
    demo.add_argument("--variants", type=int, default=8, help="number of variants (default 8)")
    demo.add_argument("--workers", type=int, default=None, help="parallel simulations")
    demo.add_argument("--plot", default="idfkit-demo.png", help="PNG file to write")
    demo.set_defaults(handler=_demo)
    return parser


def _run_options(parser: argparse.ArgumentParser) -> None:
    """One flag per field of `RunOptions`, named and described by it."""
    from typing import get_args

    from idfkit.simulation.options import OutputSuffix

    group = parser.add_argument_group("run options")
    period = group.add_mutually_exclusive_group()  # EnergyPlus refuses -a with -D
    defaults = RunOptions()
    for name in RunOptions.names():
        flag, default = _option_flag(name), getattr(defaults, name)
        text = RunOptions.help(name)
        where = period if name in ("annual", "design_day") else group
        if default is True:
            where.add_argument(flag, dest=name, action="store_false", help=f"do not {text}")
        elif default is False:
            where.add_argument(flag, action="store_true", help=text)
        elif name == "extra_args":
            where.add_argument(
                flag, dest=name, action="append", default=[], metavar="ARG", help=text
            )
        elif name == "output_suffix":
            where.add_argument(flag, choices=get_args(OutputSuffix), default=default, help=text)
        elif isinstance(default, float) or name.endswith("timeout"):
            where.add_argument(flag, type=float, default=default, metavar="SECONDS", help=text)
        else:
            where.add_argument(flag, default=default, help=text)


def _progress_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress bar (one is drawn on standard error only when it is a terminal)",
    )


def _storage_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--endpoint-url",
        help="storage endpoint: an S3-compatible server for s3://, an account URL for az://, "
        "an emulator for gs:// (default: the cloud's own)",
    )


def _fs(location: str, args: argparse.Namespace) -> FileSystem:
    from idfkit.simulation.url import filesystem_from_url

    options: dict[str, Any] = {}
    endpoint = getattr(args, "endpoint_url", None)
    if endpoint and location[:5].lower() in ("s3://", "gs://"):
        options["endpoint_url"] = endpoint
    elif endpoint and location[:5].lower() == "az://":
        options["account_url"] = endpoint
    fs = filesystem_from_url(location, **options)
    locations: dict[str, str] = getattr(args, "locations", {})
    locations[repr(fs)] = location.rstrip("/") or location
    return fs


def _split(location: str, args: argparse.Namespace) -> tuple[FileSystem, str]:
    """``s3://b/p/run-001`` -> (fs at s3://b/p, "run-001"); a folder -> (local fs, folder).

    The name is empty when ``location`` is a bucket or a filesystem root.
    """
    scheme = _SCHEME.match(location)
    if scheme is not None:
        rest = location[scheme.end() :].rstrip("/")
        if not rest:
            raise _UsageError(f"{location!r} names no bucket or host; write {scheme[1]}://name/…")
        head, _, leaf = rest.rpartition("/")
        if not head:
            return _fs(f"{scheme[0]}{rest}", args), ""
        return _fs(f"{scheme[0]}{head}", args), leaf
    trimmed = Path(location.rstrip("/") or location)
    return _fs(str(trimmed.parent), args), trimmed.name


def _split_output(location: str, args: argparse.Namespace) -> tuple[FileSystem, str]:
    fs, leaf = _split(location, args)
    if not leaf:
        raise _UsageError(f"--output {location!r} needs a folder name (for example …/run-001)")
    return fs, leaf


def _run(args: argparse.Namespace) -> int:
    from idfkit.simulation.runner import simulate

    options = RunOptions.from_mapping(vars(args))
    fs, leaf = _split_output(args.output, args)
    _check_inputs(args, fs, _parent_location(args.output))
    if not _SCHEME.match(args.output) and Path(args.output).is_file():
        raise _UsageError(f"--output {args.output} is a file; name a folder for the run")
    with _progress(args, Path(args.model).name) as on_progress:
        result = simulate(
            args.model,
            args.weather,
            output_dir=leaf,
            fs=fs,
            options=options,
            on_progress=on_progress,
        )
    status = "succeeded" if result.success else "failed"
    print(f"{status}: {args.output} ({result.runtime_seconds or 0:.1f} s)")
    if not result.success:
        print(terminal_safe(result.errors.describe()))
    return EXIT_OK if result.success else EXIT_FAILED


def _worker(args: argparse.Namespace) -> int:
    from idfkit.simulation.study import run_study_job

    index = args.index if args.index is not None else _index_from_environment()
    fs = _fs(args.study, args)
    with _progress(args, f"job {index}") as on_progress:
        outcome = run_study_job(fs, index, force=args.force, on_progress=on_progress)
    word = (
        "already succeeded, skipped"
        if outcome.action == "skipped"
        else ("succeeded" if outcome.success else "failed")
    )
    print(f"job {index} ({terminal_safe(outcome.spec.label, newlines=False)}): {word}")
    if not outcome.success:
        print(terminal_safe(outcome.result.errors.describe()))
    return EXIT_OK if outcome.success else EXIT_FAILED


@contextlib.contextmanager
def _progress(
    args: argparse.Namespace, desc: str
) -> Iterator[Callable[[SimulationProgress], None] | None]:
    """A bar on standard error while EnergyPlus runs, only on a terminal and with tqdm.

    Standard output stays the command's result alone, whatever it is piped to.
    """
    if args.no_progress or not sys.stderr.isatty() or importlib.util.find_spec("tqdm") is None:
        yield None
        return
    from idfkit.simulation.progress import tqdm_progress

    with tqdm_progress(desc=desc, file=sys.stderr, leave=False) as update:
        yield update


def _index_from_environment() -> int:
    for name in INDEX_VARIABLES:
        value = os.environ.get(name)
        if value is not None:
            try:
                return int(value)
            except ValueError:
                raise StudyError(f"{name}={value!r} is not a job index") from None
    raise StudyError("no job index: pass --index or set " + " or ".join(INDEX_VARIABLES))


def _collect(args: argparse.Namespace) -> int:
    from idfkit.simulation.study import collect_results

    kind = args.output.suffix.lower() if args.output is not None else None
    if kind not in (None, ".parquet", ".csv", ".json"):
        raise ValueError(f"--output {args.output} must end in .parquet, .csv or .json")
    collection = collect_results(_fs(args.study, args))
    if kind == ".parquet":
        collection.to_parquet(args.output)
    elif kind == ".csv":
        collection.to_csv(args.output)
    elif kind == ".json":
        collection.to_json(args.output)
    if args.json:
        payload = {
            "counts": collection.counts(),
            "to_resubmit": collection.to_resubmit,
            "failed": collection.failed,
            "rows": collection.records(),
        }
        print(json.dumps(payload, indent=2))
    else:
        print(rows_to_text(_safe_rows(collection.display_records())))
        print(", ".join(f"{n} {s}" for s, n in collection.counts().items()))
        if collection.to_resubmit:
            print("to resubmit: " + ",".join(str(i) for i in collection.to_resubmit))
    return EXIT_OK if collection.all_succeeded else EXIT_FAILED


def _study_create(args: argparse.Namespace) -> int:
    from idfkit.simulation.study import grid_jobs, parse_grid_option, resolve_edit, write_study

    options = RunOptions.from_mapping(vars(args))
    grid = dict(parse_grid_option(text) for text in args.param)
    fs = _fs(args.study, args)
    _check_inputs(args, fs, args.study)
    jobs = grid_jobs(
        args.model,
        args.weather,
        grid,
        edit=resolve_edit(args.edit) if args.edit else None,
        **options.as_dict(),
    )
    write_study(jobs, fs, overwrite=args.overwrite)
    print(f"wrote a study of {len(jobs)} jobs to {args.study}")
    return EXIT_OK


def _check_inputs(args: argparse.Namespace, fs: FileSystem, where: str) -> None:
    """Refuse a missing MODEL or WEATHER (the weather may also be a path on ``fs``)."""
    from idfkit.simulation._staging import check_model_path, check_weather_path

    check_model_path(args.model)  # a swapped pair is named as such, not as missing
    check_weather_path(args.weather)
    if not Path(args.model).is_file():
        raise _UsageError(f"model file not found: {args.model}")
    if not Path(args.weather).is_file() and not _on(fs, args.weather):
        raise _UsageError(
            f"weather file not found: {args.weather} (neither a local file nor in {where})"
        )


def _on(fs: FileSystem, path: str) -> bool:
    """Whether ``path`` names something on ``fs`` (False for paths it cannot hold)."""
    try:
        return fs.exists(path)
    except ValueError:
        return False


def _parent_location(location: str) -> str:
    trimmed = location.rstrip("/")
    return trimmed.rpartition("/")[0] or "."


def _ls(args: argparse.Namespace) -> int:
    fs = _fs(args.location, args)
    names = fs.glob("", args.pattern)
    for path in names:
        print(terminal_safe(path, newlines=False))  # stored names, as another tool wrote them
    if names or _is_folder(args.location, fs, args):
        return EXIT_OK
    parent, leaf = _split(args.location, args)
    if leaf and _on(parent, leaf):
        raise _UsageError(f"{args.location} is a file, not a folder")
    raise _UsageError(f"no such folder: {args.location}")


def _is_folder(location: str, fs: FileSystem, args: argparse.Namespace) -> bool:
    """Whether an empty listing is an existing folder (rather than nothing there)."""
    if isinstance(fs, SupportsLocalPath):
        return fs.root is None or fs.root.is_dir()
    if fs.glob("", "*"):
        return True  # the pattern matched nothing, but the folder holds other names
    return not _split(location, args)[1]  # a bucket root exists if listing it worked


def _demo(args: argparse.Namespace) -> int:
    from idfkit.simulation._demo import run_demo

    return run_demo(
        location=args.location,
        endpoint_url=args.endpoint_url,
        bucket=args.bucket,
        prefix=args.prefix,
        variants=args.variants,
        workers=args.workers,
        plot=Path(args.plot) if args.plot else None,
    )


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
