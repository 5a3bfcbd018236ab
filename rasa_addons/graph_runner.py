"""Running a served model's graph node by node in one thread, without dask's scheduler.

Rasa 3.6 runs the model's graph through `dask.get` twice or more per turn: once to understand the
message, once per predicted action. Dask builds and orders a task graph and keeps a scheduler's
state for every run, about a sixth of each run's time under 8 concurrent conversations (py-spy,
2026-11-30), and Rasa formats the inputs (the whole tracker) into a debug message whether or not
debug logging is on. The graph of a served model is fixed, so here the order of the nodes each
set of targets needs is worked out once and each run calls the same `GraphNode`s in that order,
with the same inputs and outputs as before. Training keeps Rasa's own runner.
"""

from __future__ import annotations

import logging
from typing import Any

import rasa.core.processor
from rasa.engine.exceptions import GraphRunError
from rasa.engine.runner.dask import DaskGraphRunner

logger = logging.getLogger(__name__)
Step = tuple[str, tuple[str, ...]]  # a node, and the nodes or inputs whose outputs it takes


class SequentialGraphRunner(DaskGraphRunner):
    """`DaskGraphRunner` whose `run` calls the needed nodes in dependency order in this thread."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._orders: dict[tuple[str, ...], tuple[Step, ...]] = {}  # per set of targets; a few per model

    def run(self, inputs: dict[str, Any] | None = None, targets: list[str] | None = None) -> dict[str, Any]:
        """The targets' outputs by node name, as `DaskGraphRunner.run` returns them."""
        run_targets = tuple(targets or self._graph_schema.target_names)
        outputs: dict[str, Any] = {}
        for name, value in (inputs or {}).items():
            if name in self._graph_schema.nodes:
                raise GraphRunError(f"Input '{name}' clashes with a node name: inputs and nodes are named apart.")
            outputs[name] = (name, value)
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(f"Running graph with targets {list(run_targets)} and inputs {sorted(outputs)}.")
        try:
            for name, needs in self._steps(run_targets):
                # A need nothing provides is passed by name, as dask does; the node then reports it.
                outputs[name] = self._instantiated_nodes[name](*(outputs.get(need, need) for need in needs))
        except RuntimeError as error:
            raise GraphRunError("Error running runner.") from error
        return dict(outputs[target] for target in run_targets)

    def _steps(self, targets: tuple[str, ...]) -> tuple[Step, ...]:
        if targets not in self._orders:
            nodes = self._graph_schema.minimal_graph_schema(list(targets)).nodes
            self._orders[targets] = ordered_steps(nodes, targets)
        return self._orders[targets]


def ordered_steps(nodes: dict[str, Any], targets: tuple[str, ...]) -> tuple[Step, ...]:
    """The nodes `targets` need, each after every node it takes an output from."""
    steps: list[Step] = []
    placed: set[str] = set()

    def place(name: str) -> None:
        if name in placed or name not in nodes:
            return
        placed.add(name)
        needs = tuple(nodes[name].needs.values())
        for need in needs:
            place(need)
        steps.append((name, needs))

    for target in targets:
        place(target)
    return tuple(steps)


def install() -> None:
    """Serve models with the sequential runner (the processor names its runner class at load)."""
    rasa.core.processor.DaskGraphRunner = SequentialGraphRunner  # type: ignore[misc]
