"""White-box gradient canaries: a one-run audit of the DP-SGD mechanism itself.

The text canaries of ``canaries.py`` test the *released model*: they reveal a
broken mechanism only if the model memorises them, and a small model trained
for a few epochs may learn too little for that even with no noise at all. A
claim of "(epsilon, delta)-DP" is a claim about the mechanism, and DP-SGD's
accountant covers every noisy gradient sum it releases, not only the final
weights. So, as in the white-box experiments of Steinke, Nasr and Jagielski
("Privacy Auditing with One (1) Training Run", NeurIPS 2023) with the Dirac
canaries of Nasr et al. ("Tight Auditing of Differentially Private Machine
Learning", USENIX Security 2023):

- ``m`` canaries, each a gradient that is zero except for one coordinate of
  the largest trainable parameter, with norm exactly the clipping bound ``C``
  (the most one example may contribute); distinct coordinates, drawn from the
  seed; each canary is included with probability 1/2 (also from the seed);
- at every optimizer step, each included canary is Poisson-sampled at the
  loop's own sample rate ``q`` and, when sampled, added to the sum of clipped
  per-example gradients *before* the noise, exactly like an example: the
  accountant's analysis covers it unchanged;
- the auditor observes the noisy sum at each canary's coordinate (the
  white-box view: the mechanism's own outputs) and scores a canary by the
  total over all steps; the one-run theorem turns correct inclusion guesses
  into an epsilon lower bound (``canaries.audit``, the same guesses, grid and
  power as the text canaries).

With honest noise the per-step signal ``C`` is buried under noise of standard
deviation ``sigma * C``; with the noise turned down (a bug, or a wrong
calibration) the included canaries stand out and the bound rises above the
claim whatever the model learned. The canaries do move the model, as any
example does: ``m`` coordinates out of the parameter's, recorded with their
parameter's name.

The number of canaries trades the theorem's ``delta`` term (it grows with
``m``) against the binomial tail (it shrinks with ``m``): ``auto`` picks the
count in :data:`COUNT_GRID` with the most power at the run's delta.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping

from harness import N_  # marks a message id for extraction (babel.cfg); the report translates it

if TYPE_CHECKING:
    import numpy as np  # imported where used: the membership check imports this module at registration

KEY = "gradient_canaries"
#: counts ``auto`` chooses from (the one with the most power at the run's delta, the smallest on ties)
COUNT_GRID: tuple[int, ...] = (50, 100, 200, 300, 500, 1000, 2000)
#: guess counts r = fraction * m, half "included" from the top and half "excluded" from the bottom, fixed in
#: advance. Unlike a memorising model, a mechanism with too little noise separates the two groups cleanly,
#: so the largest count both groups (each Binomial(m, 1/2)) almost surely fill decides; 0.2 for a weak signal
GUESS_FRACTIONS: tuple[float, ...] = (0.2, 0.6)
#: separates this audit's random stream from every other use of the run seed
STREAM = 0x67726164  # "grad"
PLACED_IN_UNUSED_ROWS = "input-embedding rows no training text looks up (data gradient exactly zero)"
PLACED_AT_RANDOM = "random coordinates of the largest trainable parameter (the data's gradients add to the noise)"


METHOD = N_(
    "white-box one-run audit (Steinke, Nasr and Jagielski 2023) with Dirac gradient canaries (Nasr et al. 2023): m "
    "canaries, each a one-coordinate gradient of norm C (the clipping bound), in input-embedding rows no training text "
    "looks up where there are enough, else in the largest trainable parameter; "
    "included with probability 1/2 and, when included, Poisson-sampled at the loop's sample rate and added to the "
    "clipped gradient sum before the noise; score = that coordinate's noisy sum over all steps; guesses: the k highest "
    "'included' and the k lowest 'excluded' for 2k = 0.2 m and 0.6 m (fixed in advance); epsilon lower bound from the "
    "binomial tail with the delta term (their Theorem 3), Bonferroni over the two"
)


def auto_count(delta: float, level: float = 0.95) -> int:
    """The canary count in :data:`COUNT_GRID` with the most power at ``delta``."""
    from harness_privacy.canaries import power

    return max(COUNT_GRID, key=lambda m: (round(power(m, delta, level, GUESS_FRACTIONS, ()), 9), -m))


@dataclass
class GradientCanaries:
    """The planted canaries of one DP-SGD run and the running totals the auditor observes."""

    parameter: str
    shape: tuple[int, ...]
    placement: str  # PLACED_IN_UNUSED_ROWS or PLACED_AT_RANDOM
    pool_size: int  # coordinates the canaries were drawn from
    coordinates: np.ndarray  # flat indices into the parameter, distinct
    included: np.ndarray  # bool, one per canary
    sample_rate: float
    clip: float
    seed: int
    rng: np.random.Generator = field(repr=False)
    totals: np.ndarray = field(repr=False)  # float64: sum over steps of the noisy gradient at each coordinate
    sampled: np.ndarray = field(repr=False)  # times each canary was added
    steps: int = 0
    _index: Any = field(default=None, repr=False)

    @classmethod
    def plan(cls, model: Any, count: int, *, seed: int, sample_rate: float, clip: float,
             used_token_ids: Any = None) -> "GradientCanaries":
        """Draw the coordinates and inclusions from ``seed``.

        Where the input embeddings are trained and ``used_token_ids`` (every id in
        the encoded training data) leaves enough rows unused, the canaries go into
        those rows: no training text looks them up, so their data gradient is
        exactly zero and each observed sum is canary plus noise alone. Else they
        go into random coordinates of the largest trainable parameter, where the
        data's own gradients add to the noise (a weaker audit, never an unsound
        one). The coordinates may depend on the rest of the data: the theorem only
        needs the inclusions to be independent coin flips.
        """
        import numpy as np

        trainable = {name: p for name, p in model.named_parameters() if p.requires_grad}
        if not trainable:
            raise ValueError("no trainable parameter to plant gradient canaries in")
        embeddings = model.get_input_embeddings() if hasattr(model, "get_input_embeddings") else None
        weight = getattr(embeddings, "weight", None)
        name = next((n for n, p in trainable.items() if p is weight), None) if weight is not None else None
        pool, placement = None, PLACED_IN_UNUSED_ROWS
        if name is not None and used_token_ids is not None:
            rows = np.setdiff1d(np.arange(weight.shape[0]), np.unique(np.asarray(used_token_ids, dtype=np.int64)))
            width = int(np.prod(weight.shape[1:]))
            if rows.size * width >= count:
                pool = (rows[:, None] * width + np.arange(width)[None, :]).ravel()
        if pool is None:
            placement = PLACED_AT_RANDOM
            name = max(trainable, key=lambda n: (trainable[n].numel(), n))
            pool = np.arange(int(trainable[name].numel()))
        param = trainable[name]
        m = min(int(count), int(pool.size))
        rng = np.random.default_rng([int(seed), STREAM])
        coordinates = np.sort(pool[rng.choice(int(pool.size), size=m, replace=False)]).astype(np.int64)
        included = rng.random(m) < 0.5
        return cls(parameter=name, shape=tuple(param.shape), placement=placement, pool_size=int(pool.size),
                   coordinates=coordinates, included=included, sample_rate=float(sample_rate), clip=float(clip),
                   seed=int(seed), rng=rng, totals=np.zeros(m, dtype=np.float64), sampled=np.zeros(m, dtype=np.int64))

    def install(self, model: Any, optimizer: Any) -> None:
        """Wrap ``optimizer.add_noise`` (Opacus' DPOptimizer): canaries in before the noise, the noisy sum read after.

        ``add_noise`` runs once per logical step (never for the physical batches
        BatchMemoryManager skips) and also for empty Poisson batches.
        """
        import numpy as np
        import torch

        param = dict(model.named_parameters())[self.parameter]
        if not any(p is param for p in optimizer.params):
            raise ValueError(f"parameter {self.parameter} is not optimised by the DP optimizer")
        self._index = tuple(torch.as_tensor(axis, device=param.device) for axis in np.unravel_index(self.coordinates, self.shape))
        original = optimizer.add_noise

        def add_noise_with_canaries() -> None:
            self._insert(param)
            original()
            self._observe(param)

        optimizer.add_noise = add_noise_with_canaries

    def _insert(self, param: Any) -> None:
        import torch

        take = self.included & (self.rng.random(self.included.size) < self.sample_rate)
        self.sampled += take
        values = torch.as_tensor(take * self.clip, dtype=param.summed_grad.dtype, device=param.summed_grad.device)
        param.summed_grad.index_put_(self._index, values, accumulate=True)

    def _observe(self, param: Any) -> None:
        self.totals += param.grad[self._index].detach().double().cpu().numpy()
        self.steps += 1

    def record(self) -> dict[str, Any]:
        """What the check needs, JSON-safe: the seed regenerates the coordinates and inclusions, the scores are the totals."""
        import numpy as np

        return {
            "count": int(self.coordinates.size), "seed": self.seed, "parameter": self.parameter,
            "parameter_size": int(np.prod(self.shape)), "placement": self.placement, "pool_size": self.pool_size,
            "included": int(self.included.sum()),
            "sample_rate": self.sample_rate, "clip": self.clip, "steps": self.steps,
            "inserted": int(self.sampled.sum()), "scores": [float(x) for x in self.totals], "method": METHOD,
        }


def regenerate_included(record: Mapping[str, Any]) -> np.ndarray:
    """The inclusions drawn by :meth:`GradientCanaries.plan` for this record (from its seed alone)."""
    import numpy as np

    m, size = int(record["count"]), int(record["pool_size"])
    rng = np.random.default_rng([int(record["seed"]), STREAM])
    rng.choice(size, size=m, replace=False)
    return rng.random(m) < 0.5


def audit(record: Mapping[str, Any], *, delta: float, level: float = 0.95) -> Any:
    """The epsilon lower bound the recorded canaries prove (a ``canaries.CanaryAudit`` with this method)."""
    import dataclasses

    import numpy as np

    from harness_privacy import canaries

    scores = np.asarray(record["scores"], dtype=float)
    included = regenerate_included(record)
    if scores.size != included.size:
        raise ValueError(f"gradient canary record: {scores.size} scores for {included.size} canaries")
    result = canaries.audit(scores, included, delta=delta, level=level, fractions=GUESS_FRACTIONS, low_fractions=())
    return dataclasses.replace(result, method=METHOD)
