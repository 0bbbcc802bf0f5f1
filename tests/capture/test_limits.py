"""The body budget: large uploads wait their turn, first come first served; small ones never."""

from __future__ import annotations

import asyncio

from proxy.capture.limits import SMALL, BodyBudget


async def test_large_bodies_wait_in_order_and_small_ones_pass() -> None:
    budget = BodyBudget(max_body=100 << 20, max_in_flight=100 << 20)
    assert budget.too_large((100 << 20) + 1) and not budget.too_large(100 << 20)
    first = await budget.acquire(60 << 20)
    order: list[str] = []

    async def take(name: str, size: int) -> int:
        held = await budget.acquire(size)
        order.append(name)
        return held

    second = asyncio.ensure_future(take("second", 60 << 20))
    third = asyncio.ensure_future(take("third", 10 << 20))
    await asyncio.sleep(0.01)
    assert order == [] and budget.held == 60 << 20, "the third waits behind the second"
    assert await budget.acquire(SMALL) == 0, "small bodies do not wait"
    budget.release(first)
    await asyncio.gather(second, third)
    assert order == ["second", "third"] and budget.held == 70 << 20
    unknown = asyncio.ensure_future(budget.acquire(None))
    await asyncio.sleep(0.01)
    assert not unknown.done(), "a body of unknown length holds the maximum"
    unknown.cancel()


async def test_a_cancelled_waiter_gives_its_place_back() -> None:
    budget = BodyBudget(max_body=10 << 20, max_in_flight=10 << 20)
    held = await budget.acquire(10 << 20)
    waiter = asyncio.ensure_future(budget.acquire(10 << 20))
    await asyncio.sleep(0.01)
    waiter.cancel()
    await asyncio.gather(waiter, return_exceptions=True)
    budget.release(held)
    assert budget.held == 0
