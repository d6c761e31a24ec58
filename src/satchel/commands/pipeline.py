"""After resolution: prepare (download and unpack, or build) and link into an environment.

Shared by `satchel install` and by the installation of build requirements into isolated build
environments (:meth:`Installer.install_build_requirements`, the build layer's callback), so a
build requirement goes through the same resolver, cache and linker as anything else.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement

from satchel.cache import buckets
from satchel.cache.store import Cache, Tree
from satchel.commands.sources import BuildOptions, SourceFinder, Sources, is_wheel_url, url_file
from satchel.errors import BuildError, HashMismatchError, ResolutionImpossible, SatchelError
from satchel.index.client import IndexClient
from satchel.index.models import IndexFile
from satchel.install.installed import InstalledDist
from satchel.progress import Progress, Task
from satchel.python.interpreter import Interpreter
from satchel.resolve import ResolvedPackage

TYPE_CHECKING = False
if TYPE_CHECKING:
    from satchel.cache.manifest import Listing
    from satchel.install.link import Linker
    from satchel.install.link_worker import LinkJob, LinkWorker

log = logging.getLogger("satchel")

FETCH_WORKERS = 8
#: A wheel's turn at unpacking (:meth:`Installer.prepare`'s slots): entered around the unpacking.
UnpackSlot = Callable[[], AbstractContextManager[None]]

#: Distributions installed (linked into the environment) side by side, on more than 2 cores.
#: On 2 cores the calling thread links, with one more thread only when linking turns out slow
#: (``commands/linking.py``).
LINK_WORKERS = 4

#: Files to link below which the link worker is not asked (the thread that feeds it, and the check
#: that no two distributions write the same file, cost more than it saves: attrs, idna, sniffio
#: and outcome, 76 files, linked in 14.5 ms with it and 10 ms without, 12 interleaved rounds).
LINK_WORKER_MIN_FILES = 500


@dataclass
class Target:
    """Where an install goes: the interpreter and its scheme directories, or a ``--target``
    directory."""
    interpreter: Interpreter
    paths: dict[str, str]
    label: str
    is_directory: bool = False  # --target DIR rather than an environment


class Installer:
    """Everything after resolution, for one run: one :class:`Sources` (so each URL and sdist is
    turned into a source once) and one index client, whatever the target."""

    def __init__(
        self,
        cache: Cache,
        client: IndexClient,
        build: BuildOptions,
        *,
        link_mode: str | None = None,
        default_link_mode: str | None = None,
        compile_bytecode: bool = False,
    ) -> None:
        self.cache = cache
        self.client = client
        self.sources = Sources(cache, client, build)
        self.link_mode = link_mode  # --link-mode
        self.default_link_mode = default_link_mode  # SATCHEL_LINK_MODE (Settings.link_mode)
        self.compile_bytecode = compile_bytecode
        self._link_worker: LinkWorker | None = None
        self._own_worker = False

    def start_link_worker(self, started: LinkWorker | None = None) -> None:
        """Have :meth:`prepare` and :meth:`link` hand work to a link worker
        (``install/link_worker.py``): ``started``, else one started now, so that it is ready by
        then. It unpacks in any link mode, and links when linking hard links or copies. Call
        :meth:`close` when done (it ends a worker started here)."""
        if self._link_worker is not None:
            return
        if started is None:
            from satchel.install.link_worker import LinkWorker

            started = LinkWorker.start()
            self._own_worker = started is not None
        self._link_worker = started

    def close(self) -> None:
        """End the link worker this installer started, if any (not waited for)."""
        worker, self._link_worker = self._link_worker, None
        if worker is not None and self._own_worker:
            worker.close()

    def finder(self, interpreter: Interpreter, building: tuple[str, ...] = ()) -> SourceFinder:
        return SourceFinder(self.sources, interpreter, self.install_build_requirements, building=building)

    # -- prepare ---------------------------------------------------------------------------------

    def prepare(
        self, finder: SourceFinder, packages: Sequence[ResolvedPackage], progress: Progress
    ) -> dict[str, Tree]:
        """Every package's wheel unpacked in the cache (downloaded or built first), in parallel:
        independent sdists build at the same time.

        FETCH_WORKERS threads each download a wheel (what waits on the network), then unpack
        it -- a wheel just downloaded only once one of a core's worth of unpack slots is free:
        creating files is system time, and more such writers than cores only contend (on 2
        cores the jupyter set's big wheels unpack in about half the time 2 at once than 8 at
        once; small wheels too, since every system call of a writer hands the interpreter
        lock to another: unpacking trio's 37 wheels 8 at a time made ~155,000 futex calls,
        and a cold install took 10% longer than 2 at a time). A wheel holds its slot while it
        is unpacked, not while the cache then makes the tree durable (a syncfs waits on the
        disk, not on a core: a cold trio install took ~1.83 s holding it, ~1.64 s not). A
        source build holds its slot throughout. Trees the cache holds already are looked up
        first, in the calling thread; any other wheel, downloaded before or not, is unpacked
        in a slot. The biggest jobs go first,
        to the network and to the slots -- sources to build, then wheels by how many files
        they hold (jedi's 5,600 small files take longer than jupyterlab's 17 MB), as far as
        the index or the metadata read told: one big wheel started last would finish long
        after the rest. Results, and the first error, come in the order of ``packages``."""
        import heapq
        import threading

        if not packages:
            return {}
        task = progress.task("Preparing", total=len(packages))
        # Wheels unpacked already are looked up first, here, one after the other: each is a
        # manifest read and a stat per file, Python work that threads only slow down (they
        # queue for the GIL after every stat: 8 threads took the trio set's 37 cached trees
        # from 30 ms to 50-70 ms).
        found: dict[str, Tree] = {}
        for pkg in packages:
            tree = self._cached_tree(pkg)
            if tree is not None:
                found[pkg.name] = tree
                task.advance()
        if len(found) == len(packages):
            task.finish()
            return found
        cached, packages = packages, [pkg for pkg in packages if pkg.name not in found]

        build = 1 << 40  # a source to build: the biggest job of all

        def work(pkg: ResolvedPackage) -> int:
            if pkg.file is None:  # a direct reference: a wheel URL, else a source to build
                return 0 if is_wheel_url(pkg.url or "") else build
            if not pkg.file.is_wheel:
                return build
            size, members = self.client.file_shape(pkg.file)
            return (members or 0) + (size or 0) // 32768

        def to_download(pkg: ResolvedPackage) -> bool:
            """An index wheel that tree_for would download (it checks the same, first)."""
            file = pkg.file
            if file is None or not file.is_wheel or not file.sha256:
                return False
            try:
                _allowed(pkg, file.sha256)
                return self.cache.get_file(pkg.name, file.sha256, file.filename, verify=False) is None
            except Exception:  # tree_for meets (and reports) the same
                return False

        slots = max(2, min(FETCH_WORKERS, os.cpu_count() or 2))
        waiting: list[tuple[int, int]] = []  # (-work, position): who gets the next free slot
        busy = 0
        cv = threading.Condition()

        def one(position: int, pkg: ResolvedPackage) -> Tree:
            try:
                downloading = to_download(pkg)
                if downloading:
                    assert pkg.file is not None
                    self.client.download(pkg.name, pkg.file)  # a failure is final: no retry
                # (not unpacked: the trees in the cache were found above. A wheel downloaded
                # before without its tree -- a run stopped after its downloads, a pruned tree --
                # is unpacked in a slot like one just downloaded)
                cost = work(pkg)
                turn = (-cost, position)

                @contextlib.contextmanager
                def slot() -> Iterator[None]:
                    nonlocal busy
                    with cv:
                        heapq.heappush(waiting, turn)
                        while busy >= slots or waiting[0] != turn:
                            cv.wait()
                        heapq.heappop(waiting)
                        busy += 1
                        cv.notify_all()
                    try:
                        yield
                    finally:
                        with cv:
                            busy -= 1
                            cv.notify_all()

                if cost >= build:  # a build holds its slot throughout
                    with slot():
                        return self.tree_for(finder, pkg)
                # a wheel holds it while it is unpacked, not while the cache makes the finished
                # tree durable (a syncfs: waiting on the disk, not using a core)
                return self.tree_for(finder, pkg, unpacking=slot)
            finally:
                task.advance()

        # (imported here: a warm install finds every tree unpacked and needs no pool)
        from concurrent.futures import ThreadPoolExecutor

        order = sorted(enumerate(packages), key=lambda item: work(item[1]), reverse=True)
        with ThreadPoolExecutor(min(FETCH_WORKERS, len(packages)), thread_name_prefix="satchel-fetch") as pool:
            futures = {pkg.name: pool.submit(one, position, pkg) for position, pkg in order}
            made = {pkg.name: futures[pkg.name].result() for pkg in packages}
        task.finish()
        return {pkg.name: found[pkg.name] if pkg.name in found else made[pkg.name] for pkg in cached}

    def _cached_tree(self, pkg: ResolvedPackage) -> Tree | None:
        """The unpacked wheel of an index package when the local cache has it (what
        :meth:`tree_for` looks at first), else None: :meth:`tree_for` then does (and reports)
        the rest."""
        file = pkg.file
        if file is None or not file.is_wheel or not file.sha256:
            return None
        try:
            _allowed(pkg, file.sha256)
        except HashMismatchError:
            return None  # (tree_for raises it, in order)
        tree = self.cache.get_tree(buckets.ARCHIVES, f"{pkg.name}/{file.sha256}", remote=False)
        if tree is None or tree.manifest.source != file.filename:
            return None
        log.debug("%s: unpacked wheel from cache", file.filename)
        return tree

    def tree_for(
        self,
        finder: SourceFinder,
        pkg: ResolvedPackage,
        *,
        fresh: bool = False,
        unpacking: UnpackSlot | None = None,
    ) -> Tree:
        """The unpacked wheel of ``pkg`` in the archives bucket, keyed by the wheel's sha256:
        exactly the file the resolver chose, or the wheel built from exactly its source.
        ``unpacking()`` is entered around the unpacking itself (:meth:`prepare`'s slots)."""
        from satchel.cache.store import sha256_of

        file = file_of(pkg)
        if not file.is_wheel:
            if file.sha256:
                _allowed(pkg, file.sha256)
            elif pkg.hashes:
                _allowed(pkg, sha256_of(self.sources.client.download(pkg.name, file)))
            return self._unpacked_built(finder, pkg, fresh=fresh, unpacking=unpacking)
        sha = file.sha256
        if sha and not fresh:
            _allowed(pkg, sha)
            tree = self.cache.get_tree(buckets.ARCHIVES, f"{pkg.name}/{sha}")
            if tree is not None and tree.manifest.source == file.filename:
                log.debug("%s: unpacked wheel from cache", file.filename)
                return tree

        def downloaded() -> tuple[Path, str, str]:
            path = self.client.download(pkg.name, file)
            actual = sha or sha256_of(path)
            _allowed(pkg, actual)
            return path, actual, file.filename

        return self._unpack(
            pkg,
            downloaded,
            lambda path, reason: self.client.discard_download(pkg.name, file, path, reason),
            unpacking,
        )

    def _unpacked_built(
        self,
        finder: SourceFinder,
        pkg: ResolvedPackage,
        *,
        fresh: bool,
        unpacking: UnpackSlot | None = None,
    ) -> Tree:
        from satchel.build.cache import discard_built_wheel

        wheel = finder.build(pkg.name, pkg.file, pkg.url)
        if not fresh:
            tree = self.cache.get_tree(buckets.ARCHIVES, f"{pkg.name}/{wheel.sha256}")
            if tree is not None and tree.manifest.source == wheel.filename:
                return tree
        first = [wheel]

        def built() -> tuple[Path, str, str]:
            again = first.pop() if first else finder.build(pkg.name, pkg.file, pkg.url)
            return again.path, again.sha256, again.filename

        return self._unpack(
            pkg, built, lambda path, reason: discard_built_wheel(self.cache, path, reason), unpacking
        )

    def _unpack(
        self,
        pkg: ResolvedPackage,
        wheel: Callable[[], tuple[Path, str, str]],
        discard: Callable[[Path, str], bool],
        unpacking: UnpackSlot | None = None,
    ) -> Tree:
        """Unpack the wheel that ``wheel()`` gives (its path, sha256 and file name) into the
        archives bucket, inside ``unpacking()`` when given. A wheel that passed its checks and
        then could not be read while being unpacked (a failing disk) is a broken cache entry:
        ``discard(path, reason)`` removes it (one warning; False when it was no cache entry, and
        the error stands), and it is fetched or built once more."""
        from satchel.install.unpack import UnreadableWheel, unpack_wheel

        for attempt in range(2):
            path, sha, filename = wheel()

            def populate(dest: Path, path: Path = path) -> Listing:
                with unpacking() if unpacking is not None else contextlib.nullcontext():
                    worker = self._link_worker
                    if worker is not None and not worker.gone:
                        from satchel.install.link_worker import UnpackJob

                        job = UnpackJob(os.fspath(path), os.fspath(dest), pkg.name, str(pkg.version))
                        listing = worker.unpack(job)
                        if listing is not None:
                            log.debug("%s: unpacked by the link worker", path.name)
                            return listing
                        _empty(dest)  # (what a failed unpack there left: unpacked again here)
                    return unpack_wheel(path, dest, expected_name=pkg.name, expected_version=str(pkg.version))

            try:
                return self.cache.build_tree(buckets.ARCHIVES, f"{pkg.name}/{sha}", populate, source=filename)
            except UnreadableWheel as exc:
                if attempt or not discard(path, exc.reason):
                    raise
        raise AssertionError("unreachable")

    # -- link ------------------------------------------------------------------------------------

    def link(
        self,
        finder: SourceFinder,
        target: Target,
        remove: Sequence[InstalledDist],
        packages: Sequence[ResolvedPackage],
        trees: dict[str, Tree],
        progress: Progress,
    ) -> None:
        from satchel.install.link import Linker
        from satchel.install.uninstall import uninstall
        from satchel.install.wheel import install_tree

        linker = Linker(self.link_mode or self.default_link_mode or "hardlink")
        if self.cache.read_only and not self.link_mode:
            # Files of a cache we may not write often cannot be hardlinked either (owned by another
            # user: fs.protected_hardlinks; immutable; another mount). The read-only notice already
            # said why the cache is used differently: fall back to copies without a second warning.
            linker.fallback_reason = "the cache is read-only"
        for dist in remove:
            uninstall(dist, target.paths, prefix=None if target.is_directory else target.label)
        task = progress.task("Installing", total=len(packages))

        def install_one(pkg: ResolvedPackage) -> None:
            direct_url = self.direct_url(finder, pkg, trees[pkg.name])
            for attempt in range(2):
                try:
                    install_tree(
                        trees[pkg.name],
                        paths=target.paths,
                        interpreter_executable=target.interpreter.executable,
                        linker=linker,
                        requested=pkg.is_direct,
                        direct_url=direct_url,
                        compile_bytecode=self.compile_bytecode,
                        python_version=target.interpreter.version,
                    )
                    break
                except FileNotFoundError:
                    # The cache entry vanished under us (a forced `cache clean`): unpack it again.
                    if attempt:
                        raise
                    log.warning("cache entry for %s disappeared while installing; unpacking it again", pkg.name)
                    trees[pkg.name] = self.tree_for(finder, pkg, fresh=True)
            task.advance()

        worker = self._link_worker
        if (
            worker is not None
            and not worker.gone
            and len(packages) > 1
            and linker.mode in ("hardlink", "copy")
            and not linker.fallback_reason
            and sum(len(trees[pkg.name].manifest.files) for pkg in packages) >= LINK_WORKER_MIN_FILES
        ):
            from satchel.commands.linking import install_adaptively

            elsewhere = self._in_worker(worker, finder, target, linker, trees, task)
            install_adaptively(
                packages,
                install_one,
                lambda pkg: len(trees[pkg.name].manifest.files),
                parallel=lambda: not _overlapping(packages, trees),
                elsewhere=elsewhere,
            )
            log.debug("linking: %d of %d distributions installed by the link worker", elsewhere.count, len(packages))
            return
        if (os.cpu_count() or 1) <= 2 and len(packages) > 1:
            from satchel.commands.linking import install_adaptively

            # (whether two distributions write the same file is asked only when a second
            # thread would help: then they are installed in order, on this thread alone)
            if install_adaptively(
                packages,
                install_one,
                lambda pkg: len(trees[pkg.name].manifest.files),
                parallel=lambda: not _overlapping(packages, trees),
            ):
                log.debug("linking was slow (a busy filesystem): a second thread helped")
            return
        if len(packages) <= 1 or _overlapping(packages, trees):
            # Distributions that write the same file are installed one after the other, in
            # order, so that which one wins does not depend on thread timing.
            for pkg in packages:
                install_one(pkg)
            return
        workers = min(LINK_WORKERS, len(packages))
        # Linking is mostly directory creation and link(2) in the kernel, which runs without the
        # GIL: distributions are installed side by side. The first failure stops the rest.
        from concurrent.futures import ThreadPoolExecutor

        pool = ThreadPoolExecutor(workers, thread_name_prefix="satchel-link")
        try:
            futures = [pool.submit(install_one, pkg) for pkg in packages]
            for future in futures:
                future.result()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _in_worker(
        self,
        worker: LinkWorker,
        finder: SourceFinder,
        target: Target,
        linker: Linker,
        trees: dict[str, Tree],
        task: Task,
    ) -> _InWorker:
        from satchel.install.link_worker import LinkJob

        def job(pkg: ResolvedPackage) -> LinkJob:
            tree = trees[pkg.name]
            return LinkJob(
                tree=os.fspath(tree.path),
                source=tree.manifest.source,
                files=len(tree.manifest.files),
                paths=dict(target.paths),
                interpreter=target.interpreter.executable,
                requested=pkg.is_direct,
                direct_url=self.direct_url(finder, pkg, tree),
                compile_bytecode=self.compile_bytecode,
                python_version=list(target.interpreter.version),
                mode=linker.mode,
            )

        return _InWorker(worker, job, linker, task)

    def direct_url(self, finder: SourceFinder, pkg: ResolvedPackage, tree: Tree | None = None) -> dict[str, Any] | None:
        """PEP 610 ``direct_url.json`` for a URL, path or VCS install."""
        if pkg.url is None:
            return None
        url = pkg.url.split("#", 1)[0]
        if is_wheel_url(pkg.url):
            return {"url": url, "archive_info": _archive_info(file_of(pkg).sha256, tree)}
        source = finder.source_of(pkg.name, None, pkg.url)
        info: dict[str, Any]
        if source.kind == "git":
            assert source.git is not None
            vcs: dict[str, Any] = {"vcs": "git", "commit_id": source.git.commit}
            if source.git.ref:
                vcs["requested_revision"] = source.git.ref
            info = {"url": source.git.repo, "vcs_info": vcs}
            if source.git.subdirectory:
                info["subdirectory"] = source.git.subdirectory
            return info
        if source.kind == "directory":
            return {"url": url, "dir_info": {"editable": True} if self.sources.is_editable(pkg.url) else {}}
        digest = source.sha256 or file_of(pkg).sha256
        return {"url": url, "archive_info": _archive_info(digest, None)}

    def identity(self, finder: SourceFinder, pkg: ResolvedPackage) -> str | None:
        """What an installed direct reference must match to be kept (see :func:`installed_identity`);
        None for index packages. Local sources (directories, sdist files) never match: like pip,
        they are reinstalled every time (their build is cached, so that is cheap)."""
        info = self.direct_url(finder, pkg)
        if info is None:
            return None
        if "vcs_info" in info:
            return installed_identity(info)
        if "dir_info" in info or (info["url"].startswith("file:") and not is_wheel_url(info["url"])):
            return f"local:{info['url']}:always-reinstall"
        return installed_identity(info)

    # -- build requirements ----------------------------------------------------------------------

    def install_build_requirements(
        self, requirements: list[str], env_python: Path, *, building: tuple[str, ...]
    ) -> None:
        """The build layer's callback: resolve ``requirements`` for the build environment's
        python and install them into it, wheels preferred (a first resolution allows only wheels;
        if that is impossible, sources too)."""
        from satchel.python.cached import get_interpreter
        from satchel.resolve import ResolveOptions, RootRequirement, resolve

        interpreter = get_interpreter(env_python, self.cache)
        roots = []
        for text in requirements:
            try:
                roots.append(RootRequirement(Requirement(text), source="build requirements"))
            except InvalidRequirement as exc:
                raise BuildError(f"invalid build requirement {text!r}: {exc}") from None
        constraints = [
            RootRequirement(Requirement(text), source="--build-constraint")
            for text in self.sources.options.build_constraints
        ]
        finder = self.finder(interpreter, building)
        try:
            resolution = resolve(
                roots,
                finder=finder,
                interpreter=interpreter,
                constraints=constraints,
                options=ResolveOptions(only_binary=frozenset({":all:"})),
            )
        except ResolutionImpossible:
            log.debug("build requirements %s: not all as wheels; allowing sources", requirements)
            resolution = resolve(roots, finder=finder, interpreter=interpreter, constraints=constraints)
        packages = [p for p in resolution.values() if not p.installed]
        quiet = Progress(enabled=False)
        trees = self.prepare(finder, packages, quiet)
        target = Target(interpreter, dict(interpreter.paths), interpreter.prefix)
        self.link(finder, target, [], packages, trees, quiet)
        log.info("installed build requirements %s", ", ".join(f"{p.name}=={p.version}" for p in packages))


def installed_identity(direct_url: dict[str, Any] | None) -> str | None:
    """The identity of an installed direct reference from its ``direct_url.json``: the URL, and
    for VCS installs the commit."""
    if not direct_url or not isinstance(direct_url.get("url"), str):
        return None
    vcs = direct_url.get("vcs_info")
    if isinstance(vcs, dict):
        sub = direct_url.get("subdirectory") or ""
        return f"{vcs.get('vcs')}+{direct_url['url']}@{vcs.get('commit_id')}#{sub}"
    return str(direct_url["url"])


def _empty(directory: Path) -> None:
    """Remove everything in ``directory`` (made anew, empty)."""
    if any(directory.iterdir()):
        import shutil

        shutil.rmtree(directory)
        directory.mkdir()


class _InWorker:
    """``install_adaptively``'s ``elsewhere``: a distribution installed by the link worker, or
    False (the worker could not, or is gone: the caller installs it itself)."""

    def __init__(
        self, worker: LinkWorker, job: Callable[[ResolvedPackage], LinkJob], linker: Linker, task: Task
    ) -> None:
        self.worker = worker
        self.job = job
        self.linker = linker
        self.task = task
        self.count = 0

    def ready(self, timeout: float) -> bool | None:
        return self.worker.ready(timeout)

    def __call__(self, pkg: ResolvedPackage) -> bool:
        reply = self.worker.install(self.job(pkg))
        if reply is None or not reply.ok:
            if reply is not None:
                log.debug("%s: the link worker did not install it (%s); installing it here", pkg.name, reply.reason)
            return False
        if reply.fallback:
            self.linker.fell_back(reply.fallback, reply.warning or f"copying files instead of linking ({reply.fallback})")
        self.count += 1
        self.task.advance()
        return True


def _overlapping(packages: Sequence[ResolvedPackage], trees: dict[str, Tree]) -> bool:
    """Whether two of ``packages`` install a file at the same place: the same path in the library
    directory (outside ``.dist-info``; ``.data/purelib`` and ``.data/platlib`` count as the
    library), the same ``.data/scripts`` or ``.data/data`` file, or the same script, whether a
    ``.data/scripts`` file or a launcher for an entry point. An ``entry_points.txt`` that cannot
    be read counts as overlapping: installing in order then reports its error in order."""
    from satchel.install.scripts import parse_entry_points

    seen: set[str] = set()
    for pkg in packages:
        tree = trees[pkg.name]
        for f in tree.manifest.files:
            path = f.path
            top, _, rest = path.partition("/")
            if top.endswith(".dist-info"):
                if rest == "entry_points.txt":
                    try:
                        with open(os.path.join(tree.path, path), "rb") as fh:
                            text = fh.read().decode("utf-8", errors="replace")
                        names = [ep.name for ep in parse_entry_points(text, label=pkg.name)]
                    except (OSError, SatchelError):
                        return True
                    for name in names:
                        if f"scripts:{name}" in seen:
                            return True
                        seen.add(f"scripts:{name}")
                continue
            if top.endswith(".data"):
                scheme, _, rest = rest.partition("/")
                if scheme not in ("purelib", "platlib", "scripts", "data"):
                    continue  # headers go to a directory of the project's own
                path = rest if scheme in ("purelib", "platlib") else f"{scheme}:{rest}"
            if path in seen:
                return True
            seen.add(path)
    return False


def file_of(pkg: ResolvedPackage) -> IndexFile:
    if pkg.file is not None:
        return pkg.file
    assert pkg.url is not None
    return url_file(pkg.url)


def _archive_info(sha: str | None, tree: Tree | None) -> dict[str, Any]:
    """``archive_info`` with the archive's sha256: given, else the key the unpacked tree is
    stored under (``<name>/<sha256>``, see :meth:`Installer.tree_for`)."""
    if not sha and tree is not None:
        key = tree.path.parent.name
        if len(key) == 64 and all(c in "0123456789abcdef" for c in key):
            sha = key
    return {"hash": f"sha256={sha}", "hashes": {"sha256": sha}} if sha else {}


def _allowed(pkg: ResolvedPackage, sha256: str) -> None:
    if not pkg.hashes:
        return
    allowed = {h.split(":", 1)[1].lower() for h in pkg.hashes if h.lower().startswith("sha256:")}
    if sha256.lower() not in allowed:
        raise HashMismatchError(
            f"{pkg.name}=={pkg.version}: {pkg.file.filename if pkg.file else pkg.url} has sha256 "
            f"{sha256}, which is not among the --hash values given",
        )
