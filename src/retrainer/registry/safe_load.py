"""Load a registered model version only if loading it cannot run code the version carries.

This module is the one place retrainer turns a registered version into a model object
(evaluation, shadow scoring, the monitor). ``mlflow.sklearn.load_model`` is never used: it
unpickles whatever the version's MLmodel file names, and for skops it trusts the type list
that same file records, so anyone who can register a version could run code on the worker.

The rule, checked before a single model byte is deserialised:

1. The version's MLmodel file is read first (plain YAML). It must have the ``sklearn``
   flavor with ``serialization_format: skops``. ``pickle``, ``cloudpickle``, no recorded
   format (MLflow then assumes pickle) or a ``python_function``-only model is refused.
2. The skops file's types must all be trusted: skops' own safe defaults, plus types that
   were recorded when the version was logged (``skops_trusted_types``) *and* are allowed
   here (:data:`DEFAULT_TRUSTED_TYPES` and the model YAML's ``model.trusted_types``). A
   type outside that list is refused by name.

A refusal is :class:`~retrainer.errors.UnsafeModelError`; the version is never loaded. An
artifact store that does not answer is :class:`~retrainer.errors.RegistryUnavailable`
(retried): it says nothing about the version.

Code shipped with a version (the flavor's ``code`` folder, a team's ``model.factory``
package) is used only for what rule 2 already trusts: for each trusted type the model
needs whose top-level package is not importable here, that one package is copied out of
the code folder and *appended* to ``sys.path``. Nothing else in the folder becomes
importable, and an installed package of the same name always wins. (A package is imported
once per process: a later version shipping other code of the same package gets the first.)
"""

from __future__ import annotations

import importlib
import importlib.util
import posixpath
import shutil
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from retrainer.errors import RegistryError, RegistryUnavailable, UnsafeModelError
from retrainer.outages import is_outage

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from retrainer.config import ModelConfig

__all__ = [
    "DEFAULT_TRUSTED_TYPES",
    "SAFE_FORMAT",
    "ModelFile",
    "inspect_version",
    "load_model_version",
    "load_version",
    "trusted_types",
]

SAFE_FORMAT = "skops"

# The types beyond skops' own defaults that retrainer's pipelines need (every estimator of
# ``training.pipeline`` for every task, measured with skops.io.get_untrusted_types).
DEFAULT_TRUSTED_TYPES: frozenset[str] = frozenset(
    {
        "numpy.dtype",
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
        "sklearn.tree._tree.Tree",
    }
)

_FIX = (
    're-log it with mlflow.sklearn.log_model(..., serialization_format="skops") '
    "and register that version"
)


@dataclass(frozen=True)
class ModelFile:
    """What a version's MLmodel file says about its skops file (read, not yet loaded)."""

    model: str
    version: str
    root: str
    path: str
    recorded_types: frozenset[str]
    code: str | None = None


def trusted_types(config: ModelConfig) -> frozenset[str]:
    """The types this model's versions may need: retrainer's own plus the team's."""
    return DEFAULT_TRUSTED_TYPES | frozenset(config.model.trusted_types)


def _download(client: MlflowClient, uri: str, dst: str) -> Path:
    import mlflow.artifacts

    return Path(
        mlflow.artifacts.download_artifacts(
            artifact_uri=uri, dst_path=dst, tracking_uri=client.tracking_uri
        )
    )


def _refuse(model: str, version: str, found: str, why: str) -> UnsafeModelError:
    return UnsafeModelError(
        f"version {version} of {model!r} is not loaded: {why}",
        model=model,
        version=version,
        found=found,
    )


def inspect_version(client: MlflowClient, model: str, version: str) -> ModelFile:
    """Read the version's MLmodel file and decide whether it may be loaded at all.

    Raises:
        UnsafeModelError: the version is not a skops-serialised scikit-learn model.
        RegistryError: the version has no readable MLmodel file.
    """
    import yaml

    root = client.get_model_version_download_uri(model, version).rstrip("/")
    with tempfile.TemporaryDirectory() as tmp:
        try:
            text = _download(client, f"{root}/MLmodel", tmp).read_text(encoding="utf-8")
            meta = yaml.safe_load(text)
        except Exception as exc:
            if is_outage(exc):
                raise RegistryUnavailable(
                    f"the artifact store did not answer reading the MLmodel file of version "
                    f"{version} of {model!r} at {root}: {exc}"
                ) from exc
            raise RegistryError(
                f"version {version} of {model!r} has no readable MLmodel file at {root}: {exc}"
            ) from exc
    flavors = meta.get("flavors") if isinstance(meta, dict) else None
    if not isinstance(flavors, dict):
        raise _refuse(model, version, "no flavors", f"its MLmodel file lists no flavors; {_FIX}")
    sklearn = flavors.get("sklearn")
    if not isinstance(sklearn, dict):
        found = ", ".join(sorted(map(str, flavors))) or "none"
        raise _refuse(
            model,
            version,
            f"flavors: {found}",
            f"it has no sklearn flavor (flavors: {found}), so loading it means unpickling; {_FIX}",
        )
    # MLflow reads a missing format as pickle: so do we.
    fmt = str(sklearn.get("serialization_format") or "pickle")
    if fmt != SAFE_FORMAT:
        raise _refuse(
            model,
            version,
            fmt,
            f"it is serialised with {fmt}, which runs code while loading; {_FIX}",
        )
    path = str(sklearn.get("pickled_model") or "")
    normal = _inside(model, version, path, "model file")
    code = str(sklearn.get("code") or "")
    recorded = sklearn.get("skops_trusted_types") or []
    return ModelFile(
        model,
        version,
        root,
        normal,
        frozenset(map(str, recorded)),
        _inside(model, version, code, "code folder") if code else None,
    )


def _inside(model: str, version: str, path: str, what: str) -> str:
    normal = posixpath.normpath(path)
    if not path or normal.startswith(("/", "..")) or "\\" in path:
        raise _refuse(model, version, f"{what} path {path!r}", f"its {what} lies outside it")
    return normal


def _shipped_code(client: MlflowClient, spec: ModelFile, needed: Iterable[str]) -> None:
    """Make the packages of trusted, needed types importable from the version's code.

    Only packages that are not importable here are taken, one by one, from the code
    folder into a folder of their own that is appended to ``sys.path``. That folder
    outlives the load: a module may import its siblings lazily, after loading.
    """
    roots = sorted({name.split(".")[0] for name in needed})
    missing = [r for r in roots if importlib.util.find_spec(r) is None]
    if not missing or spec.code is None:
        return
    home = Path(tempfile.mkdtemp(prefix=f"retrainer-code-{spec.model}-{spec.version}-"))
    code = _download(client, f"{spec.root}/{spec.code}", str(home / "download"))
    packages = home / "path"
    packages.mkdir()
    for root in missing:
        if (code / root).is_dir():
            shutil.copytree(code / root, packages / root)
        elif (code / f"{root}.py").is_file():
            shutil.copy2(code / f"{root}.py", packages / f"{root}.py")
    shutil.rmtree(home / "download")
    sys.path.append(str(packages))
    importlib.invalidate_caches()


def load_version(
    client: MlflowClient,
    model: str,
    version: str,
    *,
    allowed: Iterable[str] = DEFAULT_TRUSTED_TYPES,
    source: str = "the model's YAML",
) -> Any:
    """Load ``version`` of ``model`` as its scikit-learn object, or refuse it.

    Args:
        client: the registry the version is in.
        model: the registered model.
        version: the version to load.
        allowed: the types this deployment vouches for (see :func:`trusted_types`).
        source: where ``model.trusted_types`` is set (named in a refusal).

    Raises:
        UnsafeModelError: the version needs pickle, or a type that is not trusted.
        RegistryError: the version has no readable MLmodel file.
    """
    import skops.io

    spec = inspect_version(client, model, version)
    trusted = spec.recorded_types & frozenset(allowed)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            local = _download(client, f"{spec.root}/{spec.path}", tmp)
        except Exception as exc:
            if is_outage(exc):
                raise RegistryUnavailable(
                    f"the artifact store did not answer downloading the model file of version "
                    f"{version} of {model!r} at {spec.root}/{spec.path}: {exc}"
                ) from exc
            raise
        try:
            needed = skops.io.get_untrusted_types(file=local)
        except Exception as exc:
            raise _refuse(
                model, version, "unreadable", f"its skops file cannot be read: {exc}"
            ) from exc
        untrusted = sorted(set(needed) - trusted)
        if untrusted:
            not_recorded = sorted(set(untrusted) - spec.recorded_types)
            why = f"it needs untrusted type(s) {', '.join(untrusted)}"
            if not_recorded:
                why += f" ({', '.join(not_recorded)} not recorded when it was logged)"
            raise _refuse(
                model,
                version,
                ", ".join(untrusted),
                f"{why}; add a type to model.trusted_types in {source} only if "
                "your team vouches for it",
            )
        _shipped_code(client, spec, needed)
        return skops.io.load(local, trusted=sorted(trusted))


def load_model_version(client: MlflowClient, config: ModelConfig, version: str) -> Any:
    """:func:`load_version` of one of ``config``'s versions, trusting what its YAML allows."""
    return load_version(
        client, config.name, str(version), allowed=trusted_types(config), source=config.source
    )
