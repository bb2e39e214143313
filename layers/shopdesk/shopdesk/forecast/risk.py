"""The chance that a waiting conversation breaches its first-response target.

A conversation waiting in its team's queue is answered after two things:

1. **a free slot reaches it.** It has ``ahead`` conversations before it (more urgent, or older at the
   same urgency: the router's order). With ``free`` slots free now, it is assigned at once when
   ``ahead < free`` (the router does it within seconds). Otherwise it needs ``m = ahead - free + 1``
   slots to free. With ``slots`` slots busy, each freeing at the team's recent rate ``1 / slot_seconds``,
   slots free at rate ``r = slots / slot_seconds`` (memoryless: Erlang C's own assumption), so the wait
   for ``m`` of them is Erlang(m, r) distributed.
2. **the agent replies**, once assigned, after a delay with the team's recent mean
   ``reply_after_assignment_seconds``, taken as exponential.

``breach_probability`` is P(slot wait + reply delay > time left), computed exactly: the Erlang tail in
closed form plus the convolution with the exponential tail, integrated numerically (Simpson, 400 panels;
error far below a percent, tested against a closed form). With nobody online no slot frees (``slots`` is
0): the conversation breaches unless an agent comes, which this function cannot know, so it answers 1.0
when it must wait for a slot.

Time is whatever unit the caller measures the time left in: business seconds when the target runs in
business time (the SLA clocks do), with rates measured in the same time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class QueueState:
    ahead: int                           # conversations the router will serve first
    free_slots: int                      # slots free now among the team's online agents
    busy_slots: int                      # slots held now among them
    slot_seconds: float                  # recent mean time a conversation holds a slot
    reply_after_assignment_seconds: float  # recent mean from assignment to the first reply


def erlang_tail(stages: int, rate: float, t: float) -> float:
    """P(Erlang(stages, rate) > t) = sum_{i < stages} e^{-rate t} (rate t)^i / i!."""
    if t <= 0:
        return 1.0
    x = rate * t
    term, total = math.exp(-x), 0.0
    for i in range(stages):
        if i:
            term *= x / i
        total += term
    return min(total, 1.0)


def erlang_density(stages: int, rate: float, s: float) -> float:
    if s < 0:
        return 0.0
    if s == 0:
        return rate if stages == 1 else 0.0
    return math.exp(stages * math.log(rate) + (stages - 1) * math.log(s) - rate * s - math.lgamma(stages))


def breach_probability(state: QueueState, seconds_left: float) -> float:
    if seconds_left <= 0:
        return 1.0
    reply_rate = 1 / state.reply_after_assignment_seconds if state.reply_after_assignment_seconds > 0 else math.inf
    needed = state.ahead - state.free_slots + 1
    if needed <= 0:                                   # assigned at once: only the reply delay remains
        return 0.0 if reply_rate == math.inf else math.exp(-reply_rate * seconds_left)
    if state.busy_slots <= 0 or state.slot_seconds <= 0:
        return 1.0                                    # no slot will free: nobody to assign it to
    rate = state.busy_slots / state.slot_seconds
    slot_tail = erlang_tail(needed, rate, seconds_left)
    if reply_rate == math.inf:
        return slot_tail
    # P(S + D > t) = P(S > t) + integral_0^t f_S(s) P(D > t - s) ds
    panels = 400
    h = seconds_left / panels
    total = 0.0
    for i in range(panels + 1):
        s = i * h
        weight = 1 if i in (0, panels) else (4 if i % 2 else 2)
        total += weight * erlang_density(needed, rate, s) * math.exp(-reply_rate * (seconds_left - s))
    return min(1.0, slot_tail + total * h / 3)
