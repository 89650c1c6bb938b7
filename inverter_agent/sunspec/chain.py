"""The SunSpec model chain: the ``SunS`` marker and the list of models behind it.

A SunSpec device maps its models one after another into its holding registers::

    base      base+2          base+4 … base+4+L₁-1    base+4+L₁
    ┌───┬───┐ ┌────┬────┐   ┌──────────────────────┐  ┌────┬────┐      ┌──────┬───┐
    │Su │nS │ │ ID │ L  │   │ L registers of data  │  │ ID │ L  │ …    │0xFFFF│ 0 │
    └───┴───┘ └────┴────┘   └──────────────────────┘  └────┴────┘      └──────┴───┘
    0x5375 0x6E53  model 1 (common) first                                end model

The marker lives at one of the well-known bases (40000, 0 or 50000). Every model header says how
long the model is, so models this agent does not know are stepped over, never fatal. Pure: the bus
code feeds :class:`ChainWalker` the headers it reads; :func:`parse_chain` does the same over a
register image that is already in memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from inverter_agent.errors import SunSpecError

__all__ = [
    "BASE_ADDRESSES",
    "END_MODEL_ID",
    "MARKER",
    "ChainWalker",
    "ModelBlock",
    "ModelLayout",
    "is_marker",
    "model_data",
    "parse_chain",
]

MARKER = (0x5375, 0x6E53)
"""``SunS`` in two registers."""
BASE_ADDRESSES = (40000, 0, 50000)
"""Where the marker is looked for, in this order."""
END_MODEL_ID = 0xFFFF
"""The model id that ends the chain."""
MAX_MODELS = 256
"""A chain longer than this is treated as garbage rather than walked forever."""
_LAST_ADDRESS = 0xFFFF


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelBlock:
    """Where one model lives."""

    model_id: int
    """The model's ``ID`` register."""
    address: int
    """Register address of the ``ID`` register."""
    length: int
    """The model's ``L`` register: data registers after ``ID`` and ``L``."""

    @property
    def data_address(self) -> int:
        """Address of the first data register."""
        return self.address + 2

    @property
    def end(self) -> int:
        """Address of the next model's ``ID`` register."""
        return self.address + 2 + self.length


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelLayout:
    """All models of one device in map order."""

    base: int
    """Address of the ``SunS`` marker."""
    models: tuple[ModelBlock, ...]
    """The models between the marker and the end model."""

    def find(self, *model_ids: int) -> ModelBlock | None:
        """The first model whose id is one of ``model_ids``."""
        return next((m for m in self.models if m.model_id in model_ids), None)

    @property
    def model_ids(self) -> tuple[int, ...]:
        return tuple(m.model_id for m in self.models)


def is_marker(regs: Sequence[int]) -> bool:
    """Whether the first two registers are ``SunS``."""
    return tuple(regs[:2]) == MARKER


class ChainWalker:
    """Steps through the model headers; call :meth:`feed` with each header at :attr:`address`."""

    __slots__ = ("_base", "_blocks", "_done", "address")

    def __init__(self, base: int) -> None:
        self._base = base
        self._blocks: list[ModelBlock] = []
        self._done = False
        self.address = base + 2
        """Where the next header (``ID``, ``L``) is to be read."""

    @property
    def done(self) -> bool:
        """The end model has been seen."""
        return self._done

    def feed(self, model_id: int, length: int) -> None:
        """Take the header read at :attr:`address` and move to the next one."""
        if self._done:
            raise SunSpecError("model chain already ended")
        if model_id == END_MODEL_ID:
            self._done = True
            return
        if not self._blocks and model_id != 1:
            raise SunSpecError(f"first model at {self.address} is {model_id}, not 1 (common)")
        block = ModelBlock(model_id=model_id, address=self.address, length=length)
        if block.end > _LAST_ADDRESS or len(self._blocks) >= MAX_MODELS:
            raise SunSpecError(f"model chain runs past the register space at model {model_id}")
        self._blocks.append(block)
        self.address = block.end

    def layout(self) -> ModelLayout:
        if not self._done:
            raise SunSpecError("model chain has no end model")
        return ModelLayout(base=self._base, models=tuple(self._blocks))


def parse_chain(image: Sequence[int], *, base: int, image_start: int | None = None) -> ModelLayout:
    """Walk the chain in ``image``; its first register is at ``image_start`` (default ``base``)."""
    start = base if image_start is None else image_start
    offset = base - start
    if offset < 0 or not is_marker(image[offset : offset + 2]):
        raise SunSpecError(f"no SunS marker at {base}")
    walker = ChainWalker(base)
    while not walker.done:
        at = walker.address - start
        if at + 2 > len(image):
            raise SunSpecError(f"register image ends inside the model chain at {walker.address}")
        walker.feed(image[at], image[at + 1])
    return walker.layout()


def model_data(image: Sequence[int], block: ModelBlock, *, image_start: int) -> Sequence[int]:
    """The data registers of ``block`` in ``image``."""
    at = block.data_address - image_start
    data = image[at : at + block.length]
    if at < 0 or len(data) < block.length:
        raise SunSpecError(f"register image ends inside model {block.model_id}")
    return data
