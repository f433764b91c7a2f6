"""Micro-batching: concurrent requests share one call of the model."""

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import BaseModel

from ..modeling.tasks import Scores


@dataclass
class _Waiting:
    records: list[BaseModel]
    done: asyncio.Future[Scores]


class MicroBatcher:
    """Scores concurrent requests together: one Pipeline call for all waiting rows.

    A request that arrives while the model is busy waits for that call to end and
    is then scored together with every request that arrived meanwhile (up to
    `max_rows` rows). A request that arrives when the model is idle is scored at
    once, so batching adds no delay. The model gives each row the same result
    whatever else is in the batch; a batch that fails is retried request by
    request, so a bad request never fails the others.
    """

    def __init__(
        self, score: Callable[[list[BaseModel]], Scores], max_rows: int
    ) -> None:
        self._score = score
        self._max_rows = max_rows
        self._queue: deque[_Waiting] = deque()
        self._worker: asyncio.Task[None] | None = None

    async def score(self, records: list[BaseModel]) -> Scores:
        """Score `records` (in a worker thread); raises what the model raised."""
        loop = asyncio.get_running_loop()
        waiting = _Waiting(records, loop.create_future())
        self._queue.append(waiting)
        if self._worker is None or self._worker.done():
            self._worker = loop.create_task(self._drain())
        return await waiting.done

    async def _drain(self) -> None:
        while self._queue:
            batch = [self._queue.popleft()]
            rows = len(batch[0].records)
            while self._queue and rows + len(self._queue[0].records) <= self._max_rows:
                rows += len(self._queue[0].records)
                batch.append(self._queue.popleft())
            results = await asyncio.to_thread(self._score_batch, batch)
            for waiting, result in zip(batch, results, strict=True):
                if waiting.done.done():  # the client went away
                    continue
                if isinstance(result, Exception):
                    waiting.done.set_exception(result)
                else:
                    waiting.done.set_result(result)

    def _score_batch(self, batch: list[_Waiting]) -> list[Scores | Exception]:
        try:
            scores = self._score([r for waiting in batch for r in waiting.records])
        except Exception as exc:
            if len(batch) == 1:
                return [exc]
            return [result for w in batch for result in self._score_batch([w])]
        results: list[Scores | Exception] = []
        start = 0
        for waiting in batch:
            end = start + len(waiting.records)
            results.append(
                Scores(scores.predictions[start:end], scores.probabilities[start:end])
            )
            start = end
        return results
