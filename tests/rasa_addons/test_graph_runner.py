"""The sequential graph runner: the same nodes, the same order constraints and the same answers as dask's."""

from __future__ import annotations

import warnings
from types import SimpleNamespace

import pytest
import rasa.core.processor
from rasa.core.agent import Agent
from rasa.engine.exceptions import GraphRunError
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_addons.graph_runner import SequentialGraphRunner, ordered_steps

MESSAGES = ["你好", "我的社保卡丢了", "查一下社保卡进度", "How do I activate my card", "asdfgh 嗯嗯"]


def node(**needs: str) -> SimpleNamespace:
    return SimpleNamespace(needs=needs)


def test_each_node_comes_after_the_nodes_it_takes_from_and_only_needed_nodes_run():
    nodes = {
        "classifier": node(messages="featurizer"),
        "featurizer": node(messages="tokenizer"),
        "tokenizer": node(messages="__message__"),
        "policy": node(tracker="__tracker__", messages="classifier"),
        "unused": node(messages="tokenizer"),
    }
    steps = ordered_steps(nodes, ("policy",))
    names = [name for name, _ in steps]
    assert names == ["tokenizer", "featurizer", "classifier", "policy"]
    assert dict(steps)["policy"] == ("__tracker__", "classifier")  # inputs pass through by name


@pytest.fixture(scope="module")
def agents(trained_model):
    """The served model loaded twice: with Rasa's dask runner, and with the sequential one."""
    with pytest.MonkeyPatch.context() as patch, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Rasa's own notes on loading a model (slot mappings, SQLAlchemy)
        dask_agent = Agent.load(str(trained_model))
        patch.setattr(rasa.core.processor, "DaskGraphRunner", SequentialGraphRunner)
        sequential_agent = Agent.load(str(trained_model))
    assert type(dask_agent.processor.graph_runner) is DaskGraphRunner
    assert type(sequential_agent.processor.graph_runner) is SequentialGraphRunner
    return dask_agent, sequential_agent


@pytest.mark.parametrize("text", MESSAGES)
async def test_messages_are_understood_alike(agents, text):
    dask_agent, sequential_agent = agents
    assert await sequential_agent.parse_message(text) == await dask_agent.parse_message(text)


@pytest.mark.parametrize("text", MESSAGES)
async def test_the_next_action_is_predicted_alike(agents, text):
    dask_agent, sequential_agent = agents
    parsed = await dask_agent.parse_message(text)
    domain = dask_agent.domain
    events = [ActionExecuted("action_listen"), UserUttered(text, parsed["intent"], parsed["entities"], parsed)]
    predictions = []
    for agent in agents:
        tracker = DialogueStateTracker.from_events("graph-runner", events, domain.slots)
        predictions.append(agent.processor.predict_next_with_tracker(tracker))
    assert predictions[0]["scores"] == predictions[1]["scores"]
    # and one step into a form, where the rules read slots and the active loop
    events += [ActionExecuted("identity_form"), SlotSet("requested_slot", "id_number"), ActionExecuted("action_listen")]
    tracker = DialogueStateTracker.from_events("graph-runner", events, domain.slots)
    sequential = sequential_agent.processor.predict_next_with_tracker(tracker)
    tracker = DialogueStateTracker.from_events("graph-runner", events, domain.slots)
    assert sequential["scores"] == dask_agent.processor.predict_next_with_tracker(tracker)["scores"]


def test_an_input_named_like_a_node_is_refused(agents):
    runner = agents[1].processor.graph_runner
    a_node = next(iter(runner._graph_schema.nodes))
    with pytest.raises(GraphRunError, match="clashes with a node name"):
        runner.run(inputs={a_node: "anything"})
