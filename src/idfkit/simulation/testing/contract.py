"""The FileSystem contract as pytest mixins: one class per behaviour, each using an ``fs`` fixture.

`FileSystemContract` combines them all. A backend's test class subclasses
it and defines an ``fs`` fixture returning an empty instance::

    class TestMyBackend(FileSystemContract):
        @pytest.fixture
        def fs(self, tmp_path):
            return MyBackend(tmp_path)

Cases for optional capabilities skip on a backend without them. A backend
whose store can hold names that no path can name may set ``put_foreign`` to
a function ``(fs, name) -> None`` storing one directly, to check that
listings skip them.
"""

from __future__ import annotations

import hashlib
import logging
import pickle
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath

import pytest

from idfkit.simulation.fs import (
    FileSystem,
    SupportsConditionalWrite,
    SupportsLocalTransfer,
    SupportsStat,
    download_file,
    file_info,
    upload_file,
)

__all__ = [
    "CapabilityContract",
    "ConditionalWriteContract",
    "CopyRemoveContract",
    "ExistsContract",
    "FileSystemContract",
    "FilesAndFoldersContract",
    "ForeignNamesContract",
    "GlobContract",
    "HiddenLookingNamesContract",
    "NineMethodsOnly",
    "NotFoundContract",
    "PathSafetyContract",
    "PickleContract",
    "ProtocolContract",
    "ReadWriteContract",
    "RootIsNotAFileContract",
]


class ProtocolContract:
    def test_is_a_filesystem(self, fs: FileSystem) -> None:
        assert isinstance(fs, FileSystem)


class ReadWriteContract:
    def test_bytes_round_trip(self, fs: FileSystem) -> None:
        payload = bytes(range(256)) * 10
        fs.write_bytes("a/b/data.bin", payload)
        assert fs.read_bytes("a/b/data.bin") == payload

    def test_text_round_trip_with_encoding(self, fs: FileSystem) -> None:
        fs.write_text("notes.txt", "Zone température ✓")
        assert fs.read_text("notes.txt") == "Zone température ✓"
        fs.write_text("latin.txt", "température", encoding="latin-1")
        assert fs.read_bytes("latin.txt") == "température".encode("latin-1")
        assert fs.read_text("latin.txt", encoding="latin-1") == "température"

    def test_overwrite_replaces_content(self, fs: FileSystem) -> None:
        fs.write_bytes("x.txt", b"first, longer content")
        fs.write_bytes("x.txt", b"second")
        assert fs.read_bytes("x.txt") == b"second"

    def test_empty_file(self, fs: FileSystem) -> None:
        fs.write_bytes("empty", b"")
        assert fs.read_bytes("empty") == b""
        assert fs.exists("empty")

    def test_pure_posix_path_accepted(self, fs: FileSystem) -> None:
        fs.write_bytes(PurePosixPath("case-1") / "eplusout.err", b"x")  # type: ignore[arg-type]
        assert fs.read_bytes("case-1/eplusout.err") == b"x"

    def test_equivalent_spellings_name_one_file(self, fs: FileSystem) -> None:
        fs.write_bytes("case-1/./sub//f.txt", b"1")
        assert fs.read_bytes("case-1/sub/f.txt") == b"1"
        assert fs.read_bytes("case-1/other/../sub/f.txt") == b"1"
        assert fs.read_bytes("case-1\\sub\\f.txt") == b"1"


class NotFoundContract:
    def test_read_missing_is_file_not_found(self, fs: FileSystem) -> None:
        with pytest.raises(FileNotFoundError):
            fs.read_bytes("missing/file.bin")
        with pytest.raises(FileNotFoundError):
            fs.read_text("missing.txt")

    def test_remove_missing_is_file_not_found(self, fs: FileSystem) -> None:
        with pytest.raises(FileNotFoundError):
            fs.remove("missing.txt")

    def test_copy_missing_source_is_file_not_found(self, fs: FileSystem) -> None:
        with pytest.raises(FileNotFoundError):
            fs.copy("missing.txt", "dst.txt")
        assert not fs.exists("dst.txt")


class ExistsContract:
    def test_file_and_directory_exist(self, fs: FileSystem) -> None:
        assert not fs.exists("run/eplusout.sql")
        assert not fs.exists("run")
        fs.write_bytes("run/eplusout.sql", b"sql")
        assert fs.exists("run/eplusout.sql")
        assert fs.exists("run")
        assert not fs.exists("ru")  # a key prefix is not a directory

    def test_removed_file_no_longer_exists(self, fs: FileSystem) -> None:
        fs.write_bytes("gone.txt", b"x")
        fs.remove("gone.txt")
        assert not fs.exists("gone.txt")

    def test_makedirs_then_write(self, fs: FileSystem) -> None:
        fs.makedirs("deep/er/dir", exist_ok=True)
        fs.write_bytes("deep/er/dir/f", b"1")
        assert fs.exists("deep/er/dir")

    def test_makedirs_on_existing_directory(self, fs: FileSystem) -> None:
        fs.write_bytes("made/f", b"1")
        fs.makedirs("made", exist_ok=True)
        with pytest.raises(FileExistsError):
            fs.makedirs("made")


class CopyRemoveContract:
    def test_copy_file(self, fs: FileSystem) -> None:
        fs.write_bytes("src/a.bin", b"abc")
        fs.copy("src/a.bin", "dst/b.bin")
        assert fs.read_bytes("dst/b.bin") == b"abc"
        assert fs.read_bytes("src/a.bin") == b"abc"

    def test_remove_leaves_siblings(self, fs: FileSystem) -> None:
        fs.write_bytes("d/a", b"1")
        fs.write_bytes("d/b", b"2")
        fs.remove("d/a")
        assert fs.glob("d", "*") == ["d/b"]


class GlobContract:
    def test_matches_names_directly_inside(self, fs: FileSystem) -> None:
        for name in ["eplusout.sql", "eplusout.err", "eplustbl.htm", "sub/eplusout.sql"]:
            fs.write_bytes(f"run/{name}", b"x")
        fs.write_bytes("run2/eplusout.sql", b"x")
        assert fs.glob("run", "*.sql") == ["run/eplusout.sql"]
        assert fs.glob("run", "eplusout.*") == ["run/eplusout.err", "run/eplusout.sql"]
        assert fs.glob("run", "*") == [
            "run/eplusout.err",
            "run/eplusout.sql",
            "run/eplustbl.htm",
            "run/sub",
        ]

    def test_results_are_accepted_back(self, fs: FileSystem) -> None:
        fs.write_bytes("case-7/out.txt", b"payload")
        [found] = fs.glob("case-7", "*.txt")
        assert fs.read_bytes(found) == b"payload"
        assert fs.exists(found)

    def test_root_listing(self, fs: FileSystem) -> None:
        fs.write_bytes("alpha/x", b"1")
        fs.write_bytes("beta.txt", b"1")
        assert fs.glob("", "*") == ["alpha", "beta.txt"]

    def test_missing_directory_lists_empty(self, fs: FileSystem) -> None:
        assert fs.glob("no-such-dir", "*") == []

    def test_case_sensitive(self, fs: FileSystem) -> None:
        fs.write_bytes("c/Upper.SQL", b"1")
        assert fs.glob("c", "*.sql") == []
        assert fs.glob("c", "*.SQL") == ["c/Upper.SQL"]

    def test_question_mark_and_ranges(self, fs: FileSystem) -> None:
        for i in range(12):
            fs.write_bytes(f"cases/case-{i}", b"")
        assert fs.glob("cases", "case-?") == [f"cases/case-{i}" for i in range(10)]
        assert fs.glob("cases", "case-1[01]") == ["cases/case-10", "cases/case-11"]


class HiddenLookingNamesContract:
    def test_files_named_like_partial_writes_are_listed(self, fs: FileSystem) -> None:
        names = [".x.part", ".eplusout.sql.a1b2c3.part", ".hidden"]
        for name in names:
            fs.write_bytes(f"d/{name}", name.encode())
        assert fs.glob("d", "*") == sorted(f"d/{n}" for n in names)
        assert fs.glob("d", "*.part") == ["d/.eplusout.sql.a1b2c3.part", "d/.x.part"]
        assert fs.read_bytes("d/.x.part") == b".x.part"


class FilesAndFoldersContract:
    """A file and a folder never share a path, and the answers are the same everywhere."""

    def test_writing_a_file_where_a_folder_is_raises(self, fs: FileSystem, tmp_path: Path) -> None:
        fs.write_bytes("run/sub/f.txt", b"1")
        with pytest.raises(IsADirectoryError):
            fs.write_bytes("run/sub", b"x")
        with pytest.raises(IsADirectoryError):
            fs.write_text("run", "x")
        local = tmp_path / "local.bin"
        local.write_bytes(b"local")
        with pytest.raises(IsADirectoryError):
            upload_file(fs, local, "run/sub")
        fs.write_bytes("other.txt", b"2")
        with pytest.raises(IsADirectoryError):
            fs.copy("other.txt", "run/sub")
        assert fs.read_bytes("run/sub/f.txt") == b"1"
        assert fs.glob("run", "*") == ["run/sub"]

    def test_writing_below_a_file_raises(self, fs: FileSystem, tmp_path: Path) -> None:
        fs.write_bytes("f.txt", b"file")
        with pytest.raises(NotADirectoryError):
            fs.write_bytes("f.txt/x", b"x")
        with pytest.raises(NotADirectoryError):
            fs.write_bytes("f.txt/deeper/x", b"x")
        local = tmp_path / "local.bin"
        local.write_bytes(b"local")
        with pytest.raises(NotADirectoryError):
            upload_file(fs, local, "f.txt/y")
        with pytest.raises(NotADirectoryError):
            fs.copy("f.txt", "f.txt/z")
        assert fs.read_bytes("f.txt") == b"file"
        assert fs.glob("", "*") == ["f.txt"]

    def test_copy_onto_itself_changes_nothing(self, fs: FileSystem) -> None:
        fs.write_bytes("same/a.bin", b"abc")
        before = file_info(fs, "same/a.bin")
        fs.copy("same/a.bin", "same/a.bin")
        fs.copy("same/a.bin", "same/./x/../a.bin")
        assert fs.read_bytes("same/a.bin") == b"abc"
        assert file_info(fs, "same/a.bin") == before
        with pytest.raises(FileNotFoundError):
            fs.copy("same/missing", "same/missing")

    def test_reading_a_folder_raises_is_a_directory(self, fs: FileSystem) -> None:
        fs.write_bytes("run/f.txt", b"1")
        for path in ("", ".", "run", "run/"):
            with pytest.raises(IsADirectoryError):
                fs.read_bytes(path)
        with pytest.raises(IsADirectoryError):
            fs.read_text("")


class ForeignNamesContract:
    """Names put in the store by other tools that no path can name.

    A fixture class sets ``put_foreign(fs, name)`` to store such a name
    directly in the backend's store; backends that cannot hold it skip.
    """

    put_foreign: Callable[[FileSystem, str], None] | None = None

    @pytest.mark.parametrize("name", [" ", "..", ".", "a\\b", ""])
    def test_unnameable_names_are_skipped_and_logged_once(
        self, fs: FileSystem, name: str, caplog: pytest.LogCaptureFixture
    ) -> None:
        if self.put_foreign is None:
            pytest.skip("this backend cannot hold names outside the path contract")
        fs.write_bytes("study/case-1/out.txt", b"1")
        try:
            type(self).put_foreign(fs, f"study/{name}")  # type: ignore[misc]
        except (OSError, ValueError) as exc:
            pytest.skip(f"the store refuses {name!r} itself: {exc}")
        with caplog.at_level(logging.WARNING, logger="idfkit.simulation.fs"):
            first = fs.glob("study", "*")
            second = fs.glob("study", "*")
        assert first == second == ["study/case-1"]
        for found in first:
            assert fs.exists(found)
        skipped = [r for r in caplog.records if "skipped" in r.getMessage()]
        # An empty name is the folder's own marker object (S3 consoles make them): silent.
        assert len(skipped) == (0 if name == "" else 1)


class PathSafetyContract:
    @pytest.mark.parametrize(
        "path",
        ["..", "../x", "a/../../x", "/etc/passwd", "a/b/../../../c", "C:/Windows/x", "x\x00y"],
    )
    def test_escaping_paths_rejected(self, fs: FileSystem, path: str) -> None:
        with pytest.raises(ValueError, match="path"):
            fs.write_bytes(path, b"x")
        with pytest.raises(ValueError, match="path"):
            fs.read_bytes(path)
        with pytest.raises(ValueError, match="path"):
            fs.exists(path)
        with pytest.raises(ValueError, match="path"):
            fs.glob(path, "*")


class CapabilityContract:
    def test_streamed_transfer_round_trip(self, fs: FileSystem, tmp_path: Path) -> None:
        source = tmp_path / "big.bin"
        source.write_bytes(b"0123456789" * 100_000)
        upload_file(fs, source, "t/big.bin")
        target = tmp_path / "back.bin"
        download_file(fs, "t/big.bin", target)
        assert target.read_bytes() == source.read_bytes()
        assert not list(tmp_path.glob(".*part"))

    def test_download_missing_leaves_no_file(self, fs: FileSystem, tmp_path: Path) -> None:
        with pytest.raises(FileNotFoundError):
            download_file(fs, "missing.bin", tmp_path / "x.bin")
        assert list(tmp_path.iterdir()) == []

    def test_stat_size_and_version_change(self, fs: FileSystem) -> None:
        if not isinstance(fs, SupportsStat):
            pytest.skip("backend has no stat capability")
        fs.write_bytes("s.bin", b"12345")
        first = file_info(fs, "s.bin")
        assert first is not None and first.size == 5
        fs.write_bytes("s.bin", b"abcdef")
        second = file_info(fs, "s.bin")
        assert second is not None and second.size == 6
        assert second.version != first.version
        with pytest.raises(FileNotFoundError):
            file_info(fs, "nope.bin")

    def test_stat_version_follows_the_content(self, fs: FileSystem) -> None:
        """A rewrite of the same size gets a new version: local copies are cached by it."""
        if not isinstance(fs, SupportsStat):
            pytest.skip("backend has no stat capability")
        seen = []
        for content in (b"aaaa", b"bbbb", b"aaaa"):
            fs.write_bytes("v/same-size.bin", content)
            info = file_info(fs, "v/same-size.bin")
            assert info is not None and info.size == 4
            seen.append(info.version)
        # (Equal content may keep its version, as an S3 ETag does; new content may not.)
        assert seen[0] != seen[1] != seen[2], f"stat().version kept with new content: {seen}"

    def test_stat_sha256_is_the_contents(self, fs: FileSystem, tmp_path: Path) -> None:
        """A backend that tells a SHA-256 tells the content's: the cache trusts it."""
        if not isinstance(fs, SupportsStat):
            pytest.skip("backend has no stat capability")
        source = tmp_path / "up.bin"
        source.write_bytes(b"uploaded" * 1000)
        upload_file(fs, source, "h/up.bin")
        written = {"h/plain.bin": b"written", "h/up.bin": source.read_bytes()}
        fs.write_bytes("h/plain.bin", b"written")
        fs.copy("h/plain.bin", "h/copied.bin")
        written["h/copied.bin"] = b"written"
        for path, content in written.items():
            info = file_info(fs, path)
            assert info is not None
            if info.sha256 is not None:
                assert info.sha256 == hashlib.sha256(content).hexdigest(), path

    def test_nine_methods_alone_are_enough(self, fs: FileSystem, tmp_path: Path) -> None:
        minimal = NineMethodsOnly(fs)
        assert isinstance(minimal, FileSystem)
        assert not isinstance(minimal, SupportsLocalTransfer | SupportsStat)
        source = tmp_path / "in.bin"
        source.write_bytes(b"fallback" * 1000)
        upload_file(minimal, source, "fallback/in.bin")
        download_file(minimal, "fallback/in.bin", tmp_path / "out.bin")
        assert (tmp_path / "out.bin").read_bytes() == source.read_bytes()
        assert file_info(minimal, "fallback/in.bin") is None
        assert fs.read_bytes("fallback/in.bin") == source.read_bytes()


class NineMethodsOnly:
    """A wrapper that exposes exactly the nine required methods of a backend.

    Args:
        inner: The backend whose nine methods are exposed.
    """

    def __init__(self, inner: FileSystem) -> None:
        self.read_bytes = inner.read_bytes
        self.write_bytes = inner.write_bytes
        self.read_text = inner.read_text
        self.write_text = inner.write_text
        self.exists = inner.exists
        self.makedirs = inner.makedirs
        self.copy = inner.copy
        self.glob = inner.glob
        self.remove = inner.remove


class PickleContract:
    def test_pickles_and_still_works(self, fs: FileSystem) -> None:
        fs.write_bytes("p.txt", b"before")
        clone = pickle.loads(pickle.dumps(fs))
        assert clone.read_bytes("p.txt") == b"before"


class RootIsNotAFileContract:
    @pytest.mark.parametrize("path", ["", ".", "a/..", "./"])
    def test_the_root_cannot_be_written_as_a_file(self, fs: FileSystem, path: str) -> None:
        with pytest.raises(IsADirectoryError):
            fs.write_bytes(path, b"x")


class ConditionalWriteContract:
    """``SupportsConditionalWrite``: the store refuses a write whose condition fails."""

    @pytest.fixture
    def cfs(self, fs: FileSystem) -> SupportsConditionalWrite:
        if not isinstance(fs, SupportsConditionalWrite) or not getattr(
            fs, "conditional_writes", True
        ):
            pytest.skip("backend has no conditional writes")
        return fs

    def test_if_none_match_creates_once(self, cfs: SupportsConditionalWrite) -> None:
        fs: FileSystem = cfs  # type: ignore[assignment]
        first = cfs.write_bytes_if("c/new.json", b"first", if_none_match=True)
        with pytest.raises(FileExistsError):
            cfs.write_bytes_if("c/new.json", b"second", if_none_match=True)
        assert fs.read_bytes("c/new.json") == b"first"
        assert cfs.version("c/new.json") == first

    def test_if_match_follows_versions(self, cfs: SupportsConditionalWrite) -> None:
        fs: FileSystem = cfs  # type: ignore[assignment]
        assert cfs.version("c/m.json") is None
        v1 = cfs.write_bytes_if("c/m.json", b"one")
        v2 = cfs.write_bytes_if("c/m.json", b"two", if_match=v1)
        assert v2 != v1
        assert cfs.version("c/m.json") == v2
        with pytest.raises(FileExistsError):
            cfs.write_bytes_if("c/m.json", b"stale", if_match=v1)
        assert fs.read_bytes("c/m.json") == b"two"
        fs.write_bytes("c/m.json", b"three, written plainly")
        assert cfs.version("c/m.json") not in (v1, v2)
        with pytest.raises(FileExistsError):
            cfs.write_bytes_if("c/m.json", b"stale", if_match=v2)

    def test_if_match_on_a_missing_file_fails(self, cfs: SupportsConditionalWrite) -> None:
        fs: FileSystem = cfs  # type: ignore[assignment]
        version = cfs.write_bytes_if("c/gone.json", b"x")
        fs.remove("c/gone.json")
        with pytest.raises(FileExistsError):
            cfs.write_bytes_if("c/gone.json", b"y", if_match=version)
        assert not fs.exists("c/gone.json")

    def test_the_version_is_the_stat_version(self, cfs: SupportsConditionalWrite) -> None:
        version = cfs.write_bytes_if("c/s.json", b"abc")
        if isinstance(cfs, SupportsStat):
            assert cfs.stat("c/s.json").version == version

    @pytest.mark.parametrize("mode", ["if_match", "if_none_match"])
    def test_racing_writers_one_wins(self, cfs: SupportsConditionalWrite, mode: str) -> None:
        fs: FileSystem = cfs  # type: ignore[assignment]
        base = None if mode == "if_none_match" else cfs.write_bytes_if("c/race.json", b"base")
        writers = 8
        barrier = threading.Barrier(writers)

        def write(i: int) -> bool:
            barrier.wait()
            try:
                if base is None:
                    cfs.write_bytes_if("c/race.json", f"w{i}".encode(), if_none_match=True)
                else:
                    cfs.write_bytes_if("c/race.json", f"w{i}".encode(), if_match=base)
            except FileExistsError:
                return False
            return True

        with ThreadPoolExecutor(writers) as pool:
            won = list(pool.map(write, range(writers)))
        assert won.count(True) == 1
        assert fs.read_bytes("c/race.json") == f"w{won.index(True)}".encode()


class FileSystemContract(
    ProtocolContract,
    ReadWriteContract,
    NotFoundContract,
    ExistsContract,
    CopyRemoveContract,
    GlobContract,
    HiddenLookingNamesContract,
    FilesAndFoldersContract,
    ForeignNamesContract,
    PathSafetyContract,
    CapabilityContract,
    PickleContract,
    RootIsNotAFileContract,
    ConditionalWriteContract,
):
    """Every behaviour of the contract: a backend's test class adds an ``fs`` fixture."""
