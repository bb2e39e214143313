"""How many agents an hour needs: Erlang C, adapted to agents who hold several conversations at once.

Erlang C (M/M/N) answers: with ``N`` servers, arrivals at rate ``lambda`` and exponential service of mean
``S``, what share of arrivals waits longer than ``T``:

    A = lambda * S                        offered load, in Erlangs
    C(N, A) = P(wait > 0)                 from Erlang B by its stable recursion
    P(wait > T) = C(N, A) * exp(-(N - A) * T / S)      (N > A)

**The adaptation.** In messaging an agent holds up to ``concurrency`` conversations at once (their
capacity in shopdesk), and a conversation waits only for a free *slot*, not for the agent's full
attention: the router assigns it as soon as one of the agent's slots frees. So the servers are slots,
``N = agents * concurrency``, and the service time is how long a conversation holds a slot, from its
assignment to its resolution or transfer — measured in the event lake as ``slot_seconds`` (it already
contains the slowing-down of an agent who juggles several conversations, because it is measured on
agents who do). What the customer waits for before the first response is the slot plus the agent's
first reply once assigned; the second part is not a queue and is taken off the target:
``T = first_response_target - reply_after_assignment``.

One more limit keeps the answer honest: the agents' own working time. A conversation costs its agent
``effort_seconds`` of real work (typing, looking up orders); an agent cannot work more than
``max_occupancy`` of the hour, so ``agents >= lambda * effort / max_occupancy`` whatever the slots say.

``agents_needed`` returns the smallest number of agents meeting the service-level goal (share answered
within the target) under both limits; ``plan`` does it for each hour of a forecast.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


def erlang_b(servers: int, load: float) -> float:
    """Blocking probability of an M/M/N/N system, by the recursion B(k) = A B(k-1) / (k + A B(k-1))."""
    if servers < 0 or load < 0:
        raise ValueError("servers and load must not be negative")
    b = 1.0
    for k in range(1, servers + 1):
        b = load * b / (k + load * b)
    return b


def erlang_c(servers: int, load: float) -> float:
    """Probability that an arrival waits (M/M/N); 1.0 when the load reaches the servers."""
    if load <= 0:
        return 0.0
    if servers <= load:
        return 1.0
    b = erlang_b(servers, load)
    return servers * b / (servers - load * (1 - b))


def service_level(servers: int, arrivals_per_hour: float, service_seconds: float, target_seconds: float) -> float:
    """Share of arrivals that wait no longer than ``target_seconds`` for a server."""
    if arrivals_per_hour <= 0:
        return 1.0
    load = arrivals_per_hour * service_seconds / 3600
    if servers <= load:
        return 0.0
    waits = erlang_c(servers, load) * math.exp(-(servers - load) * max(target_seconds, 0.0) / service_seconds)
    return 1.0 - waits


@dataclass(frozen=True)
class StaffingInputs:
    slot_seconds: float                 # a conversation holds an agent's slot this long (assignment → resolve)
    first_response_target_seconds: float
    reply_after_assignment_seconds: float = 0.0
    effort_seconds: float = 300.0       # the agent's own work per conversation
    concurrency: int = 3                # conversations an agent holds at once (their capacity)
    goal: float = 0.8                   # share answered within the target
    max_occupancy: float = 0.85         # of an agent's hour spent working

    def __post_init__(self) -> None:
        if self.slot_seconds <= 0 or self.concurrency < 1 or not 0 < self.goal < 1 or not 0 < self.max_occupancy <= 1:
            raise ValueError("slot_seconds > 0, concurrency >= 1, 0 < goal < 1 and 0 < max_occupancy <= 1")


@dataclass(frozen=True)
class HourPlan:
    arrivals: float
    agents: int
    service_level: float
    occupancy: float
    limited_by: str                     # "service_level", "occupancy" or "none" (no arrivals)


def agents_needed(arrivals_per_hour: float, inputs: StaffingInputs, *, max_agents: int = 10_000) -> HourPlan:
    if arrivals_per_hour <= 0:
        return HourPlan(arrivals=0.0, agents=0, service_level=1.0, occupancy=0.0, limited_by="none")
    target = max(inputs.first_response_target_seconds - inputs.reply_after_assignment_seconds, 0.0)
    by_effort = math.ceil(arrivals_per_hour * inputs.effort_seconds / 3600 / inputs.max_occupancy - 1e-9)
    load = arrivals_per_hour * inputs.slot_seconds / 3600
    agents = max(1, math.floor(load / inputs.concurrency))
    while service_level(agents * inputs.concurrency, arrivals_per_hour, inputs.slot_seconds, target) < inputs.goal:
        agents += 1
        if agents > max_agents:
            raise ValueError(f"more than {max_agents} agents would be needed")
    limited_by = "service_level"
    if by_effort > agents:
        agents, limited_by = by_effort, "occupancy"
    return HourPlan(arrivals=arrivals_per_hour, agents=agents,
                    service_level=service_level(agents * inputs.concurrency, arrivals_per_hour,
                                                inputs.slot_seconds, target),
                    occupancy=arrivals_per_hour * inputs.effort_seconds / 3600 / agents,
                    limited_by=limited_by)


def plan(arrivals_by_hour: Sequence[float], inputs: StaffingInputs) -> list[HourPlan]:
    return [agents_needed(a, inputs) for a in arrivals_by_hour]
