"""The base of retrainer's model operators: arguments, runtime, links, outlets, errors.

Every model task stores the keyword-only ``config_dir`` and ``model`` and nothing else in
``__init__``; its ``execute`` opens the :class:`TaskRuntime`, calls one domain function and
returns the result's XCom form. :func:`airflow_errors` turns the domain's errors into
Airflow's signals in this one place:

- ``NothingToDo`` -> ``AirflowSkipException`` (no batch, gate rejected, metrics off, ...)
- ``ConfigError``, ``InputDataError``, ``ValidationFailed``, ``RegistryError`` ->
  ``AirflowFailException``: bad data, bad config or a registry refusal; a retry cannot help
- an outage (a store that did not answer: MLflow, its artifact store, the lake) is
  raised as :class:`~retrainer.errors.Unavailable` naming it, and Airflow retries it;
- anything else propagates, so Airflow's retries handle transient faults (a busy store).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from retrainer.errors import (
    ConfigError,
    InputDataError,
    NothingToDo,
    RegistryError,
    ValidationFailed,
)
from retrainer.orchestration.assets import model_asset
from retrainer.orchestration.links import publish_links
from retrainer.orchestration.runtime import TaskRuntime
from retrainer.outages import as_unavailable

if TYPE_CHECKING:
    from retrainer.notify import AlertSink
    from retrainer.settings import Settings

__all__ = ["FAIL_WITHOUT_RETRY", "ModelOperator", "ModelTask", "airflow_errors"]

# Errors no retry can fix: the task fails at once and says why.
FAIL_WITHOUT_RETRY = (ConfigError, InputDataError, ValidationFailed, RegistryError)


@contextmanager
def airflow_errors() -> Iterator[None]:
    """Map retrainer's errors to Airflow's skip and fail signals (a decorator, too)."""
    try:
        yield
    except NothingToDo as exc:
        raise AirflowSkipException(str(exc)) from exc
    except FAIL_WITHOUT_RETRY as exc:
        raise AirflowFailException(str(exc)) from exc
    except Exception as exc:
        named = as_unavailable(exc)
        if named is None:
            raise
        raise named from exc


class ModelTask:
    """What every task of one model shares; mix it in before the Airflow operator class."""

    config_dir: str
    model: str

    def __init__(self, *, config_dir: str | Path, model: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.config_dir = str(config_dir)
        self.model = model

    def open_runtime(self) -> TaskRuntime:
        """Settings, model config, lake and MLflow client (opened at run time, never at parse)."""
        return TaskRuntime.open(self.config_dir, self.model)

    def load_settings(self) -> Settings:
        """Only the deployment settings, for tasks that need neither the lake nor MLflow."""
        from retrainer.settings import load_settings

        return load_settings(self.config_dir)

    def alert_sink(self) -> AlertSink:
        """Alert delivery for a domain step that needs no lake or MLflow (settings only)."""
        from functools import partial

        from retrainer.orchestration.notifiers import send_alert

        return partial(send_alert, self.load_settings())

    @staticmethod
    def pull(context: Any, task_id: str) -> Any:
        """The XCom return value of an upstream task of this run."""
        return context["ti"].xcom_pull(task_ids=task_id)

    @staticmethod
    def publish(context: Any, **urls: str | None) -> None:
        """Record the URLs of this task's extra-link buttons (empty ones are left out)."""
        publish_links(context, **urls)

    def publish_version(self, context: Any, rt: TaskRuntime, version: str | int) -> None:
        """Point this task's ``Model version`` button at ``version`` of the model."""
        from retrainer.orchestration.links import model_version_url

        self.publish(context, model_version=model_version_url(rt.settings, self.model, version))

    def set_event_extra(self, context: Any, event: str, extra: dict[str, Any] | None) -> None:
        """Attach ``extra`` to the ``retrainer://<model>/<event>`` event this task emits."""
        if extra is not None:
            context["outlet_events"][model_asset(self.model, event)].extra = extra


class ModelOperator(ModelTask, BaseOperator):
    """A ``BaseOperator`` of one model: see :class:`ModelTask` and :func:`airflow_errors`."""

    # Declared here (not only on the mixin) so Airflow's metaclass wraps it for subclasses
    # that add no arguments of their own.
    def __init__(self, *, config_dir: str | Path, model: str, **kwargs: Any) -> None:
        super().__init__(config_dir=config_dir, model=model, **kwargs)
