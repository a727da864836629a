"""A trigger run in a test: its first event, while an optional coroutine plays the world (drops files…)."""

import asyncio


def first_event(trigger, during=None, timeout: float = 60):
    async def watch():
        helper = asyncio.create_task(during()) if during else None
        try:
            async for event in trigger.run():
                return event
        finally:
            if helper:
                helper.cancel()

    return asyncio.run(asyncio.wait_for(watch(), timeout))
