"""The proxy language model of the mixture search: a small decoder-only transformer in plain JAX.

Pre-LayerNorm blocks (causal multi-head attention, GELU MLP of 4x width), learned positions,
output head tied to the token embedding, AdamW with warmup and cosine decay. Written with
`jax.numpy` and `optax` only, so the same code runs on a CPU wheel and on a CUDA-enabled jax.
Everything random comes from one seed; on one machine a run gives the same loss every time.

Non-embedding parameters: 12 * d_model^2 * n_layers (+ LayerNorm); the default
(d_model 128, 5 layers) has about 1 M, as RegMix's smallest proxies.
"""

from __future__ import annotations

import functools
import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from corpusmill.errors import ConfigError


@dataclass(frozen=True)
class ProxyConfig:
    d_model: int = 128
    n_layers: int = 5
    n_heads: int = 4
    vocab_size: int = 8192  # remapped vocabulary: the most frequent ids; one more id is added for all others
    batch_size: int = 16  # sequences per step
    learning_rate: float = 3e-3
    warmup_steps: int = 20
    weight_decay: float = 0.01
    seed: int = 0
    eval_sequences: int = 64  # held-out target sequences scored per target (at most)
    dtype: str = "float32"  # float32, or bfloat16 for matmuls on a GPU

    def __post_init__(self) -> None:
        for key in ("d_model", "n_layers", "n_heads", "vocab_size", "batch_size", "eval_sequences"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"model: {key} must be a positive integer, got {value!r}")
        if self.d_model % self.n_heads:
            raise ConfigError(f"model: d_model {self.d_model} must be a multiple of n_heads {self.n_heads}")
        if not (isinstance(self.learning_rate, (int, float)) and 0 < self.learning_rate < 1):
            raise ConfigError(f"model: learning_rate must be in (0, 1), got {self.learning_rate!r}")
        if self.dtype not in ("float32", "bfloat16"):
            raise ConfigError(f"model: dtype must be float32 or bfloat16, got {self.dtype!r}")

    @property
    def non_embedding_params(self) -> int:
        return self.n_layers * (12 * self.d_model**2 + 13 * self.d_model) + 2 * self.d_model

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _init(cfg: ProxyConfig, seq_len: int, key: Any) -> dict[str, Any]:
    import jax
    import jax.numpy as jnp

    d, v = cfg.d_model, cfg.vocab_size + 1  # + the out-of-vocabulary id
    keys = jax.random.split(key, 2 + 4 * cfg.n_layers)
    std, proj_std = 0.02, 0.02 / math.sqrt(2 * cfg.n_layers)  # GPT-2's scaled init of residual projections

    def normal(k: Any, shape: tuple[int, ...], s: float) -> Any:
        return s * jax.random.normal(k, shape, jnp.float32)

    layers = []
    for i in range(cfg.n_layers):
        k = keys[2 + 4 * i : 6 + 4 * i]
        layers.append(
            {
                "ln1": {"g": jnp.ones(d), "b": jnp.zeros(d)},
                "qkv": {"w": normal(k[0], (d, 3 * d), std), "b": jnp.zeros(3 * d)},
                "proj": {"w": normal(k[1], (d, d), proj_std), "b": jnp.zeros(d)},
                "ln2": {"g": jnp.ones(d), "b": jnp.zeros(d)},
                "up": {"w": normal(k[2], (d, 4 * d), std), "b": jnp.zeros(4 * d)},
                "down": {"w": normal(k[3], (4 * d, d), proj_std), "b": jnp.zeros(d)},
            }
        )
    return {
        "embed": normal(keys[0], (v, d), std),
        "pos": normal(keys[1], (seq_len, d), 0.01),
        "layers": layers,
        "ln_f": {"g": jnp.ones(d), "b": jnp.zeros(d)},
    }


def _forward(params: dict[str, Any], tokens: Any, cfg: ProxyConfig) -> Any:
    """Logits (batch, seq, vocab) in float32."""
    import jax
    import jax.numpy as jnp

    cdt = jnp.bfloat16 if cfg.dtype == "bfloat16" else jnp.float32

    def ln(x: Any, p: dict[str, Any]) -> Any:
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) * jax.lax.rsqrt(var + 1e-5) * p["g"] + p["b"]

    def dense(x: Any, p: dict[str, Any]) -> Any:
        return (x.astype(cdt) @ p["w"].astype(cdt)).astype(jnp.float32) + p["b"]

    b, t = tokens.shape
    h, dh = cfg.n_heads, cfg.d_model // cfg.n_heads
    x = params["embed"][tokens] + params["pos"][:t]
    mask = jnp.tril(jnp.ones((t, t), bool))
    for layer in params["layers"]:
        q, k, v = jnp.split(dense(ln(x, layer["ln1"]), layer["qkv"]), 3, axis=-1)
        q, k, v = (a.reshape(b, t, h, dh).transpose(0, 2, 1, 3) for a in (q, k, v))
        att = (q.astype(cdt) @ k.astype(cdt).transpose(0, 1, 3, 2)).astype(jnp.float32) / math.sqrt(dh)
        att = jax.nn.softmax(jnp.where(mask, att, -1e9), axis=-1)
        y = (att.astype(cdt) @ v.astype(cdt)).astype(jnp.float32).transpose(0, 2, 1, 3).reshape(b, t, cfg.d_model)
        x = x + dense(y, layer["proj"])
        x = x + dense(jax.nn.gelu(dense(ln(x, layer["ln2"]), layer["up"])), layer["down"])
    x = ln(x, params["ln_f"])
    return (x.astype(cdt) @ params["embed"].astype(cdt).T).astype(jnp.float32)


def _token_losses(params: dict[str, Any], batch: Any, cfg: ProxyConfig) -> Any:
    import jax
    import jax.numpy as jnp

    logits = _forward(params, batch[:, :-1], cfg)
    logp = jax.nn.log_softmax(logits, axis=-1)
    return -jnp.take_along_axis(logp, batch[:, 1:, None], axis=-1)[..., 0]


def _loss(params: dict[str, Any], batch: Any, cfg: ProxyConfig) -> Any:
    return _token_losses(params, batch, cfg).mean()


def _eval_sum(params: dict[str, Any], batch: Any, rows: Any, cfg: ProxyConfig) -> Any:
    """Summed loss of the first `rows` sequences of a batch: one compiled shape for full and last batches."""
    import jax.numpy as jnp

    per_row = _token_losses(params, batch, cfg).sum(axis=1)
    return jnp.where(jnp.arange(batch.shape[0]) < rows, per_row, 0.0).sum()


def sequences(stream: np.ndarray, seq_len: int) -> np.ndarray:
    """(n, seq_len + 1) windows of a token stream (input plus the next-token target), no overlap."""
    n = (len(stream) - 1) // seq_len
    if n < 1:
        return np.zeros((0, seq_len + 1), np.int32)
    idx = np.arange(n)[:, None] * seq_len + np.arange(seq_len + 1)[None, :]
    return stream[idx].astype(np.int32)


@functools.lru_cache(maxsize=8)
def _jit_init(cfg: ProxyConfig, seq_len: int) -> Any:
    """Initialisation as one compiled function (eager, each random op would compile on its own)."""
    import jax

    return jax.jit(functools.partial(_init, cfg, seq_len))


@functools.lru_cache(maxsize=8)
def _compiled(cfg: ProxyConfig, steps: int) -> tuple[Any, Any, Any]:
    """Optimizer, jitted train step and eval loss, shared by every proxy of one shape in a process."""
    import jax
    import optax

    schedule = optax.warmup_cosine_decay_schedule(
        0.0, cfg.learning_rate, min(cfg.warmup_steps, max(1, steps // 10)), max(steps, 2), cfg.learning_rate * 0.1
    )
    opt = optax.chain(optax.clip_by_global_norm(1.0), optax.adamw(schedule, weight_decay=cfg.weight_decay))

    @jax.jit
    def step(params: Any, state: Any, batch: Any) -> tuple[Any, Any, Any]:
        loss, grads = jax.value_and_grad(_loss)(params, batch, cfg)
        updates, state = opt.update(grads, state, params)
        return optax.apply_updates(params, updates), state, loss

    return opt, step, jax.jit(lambda p, b, n: _eval_sum(p, b, n, cfg))


@dataclass(frozen=True)
class TrainResult:
    losses: dict[str, float]  # target name -> mean next-token loss (nats), NaN when diverged
    train_loss: float  # mean of the last 10% of steps
    steps: int
    tokens: int  # training tokens seen
    seconds: float  # training time, compilation excluded
    compile_seconds: float
    diverged: bool


def train_proxy(
    train: np.ndarray, targets: dict[str, np.ndarray], cfg: ProxyConfig, *, seq_len: int, budget_tokens: int
) -> TrainResult:
    """Train on `train` (remapped ids) for `budget_tokens`, then score each target stream.

    The stream is cut into sequences and visited in a seeded order, cycling when the budget
    is larger than the stream (the sampler already chose how often each document repeats).
    """
    import time

    import jax
    import jax.numpy as jnp

    data = sequences(train, seq_len)
    if len(data) == 0:
        raise ConfigError(f"a proxy's training data ({len(train)} tokens) is shorter than one sequence of {seq_len}")
    steps = max(1, budget_tokens // (cfg.batch_size * seq_len))
    rng = np.random.default_rng(cfg.seed)
    order = np.concatenate([rng.permutation(len(data)) for _ in range(-(-steps * cfg.batch_size // len(data)))])
    params = _jit_init(cfg, seq_len)(jax.random.PRNGKey(cfg.seed))
    opt, step, eval_loss = _compiled(cfg, steps)
    state = opt.init(params)
    t0 = time.perf_counter()
    first = jnp.asarray(data[order[: cfg.batch_size]])
    jax.block_until_ready(step(params, state, first))  # compile outside the timed loop; the result is dropped
    compile_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    tail: list[Any] = []
    diverged = False
    for s in range(steps):
        batch = jnp.asarray(data[order[s * cfg.batch_size : (s + 1) * cfg.batch_size]])
        params, state, loss = step(params, state, batch)
        if s >= steps - max(1, steps // 10):
            tail.append(loss)
        if s % 50 == 49 and not np.isfinite(float(loss)):
            diverged = True
            break
    train_loss = float(np.mean([float(x) for x in tail])) if tail else float("nan")
    diverged = diverged or not math.isfinite(train_loss)
    seconds = time.perf_counter() - t0
    losses = {}
    for name, stream in sorted(targets.items()):
        seqs = sequences(stream, seq_len)[: cfg.eval_sequences]
        if diverged or len(seqs) == 0:
            losses[name] = float("nan")
            continue
        total = 0.0
        for i in range(0, len(seqs), cfg.batch_size):
            chunk = seqs[i : i + cfg.batch_size]
            padded = np.zeros((cfg.batch_size, seq_len + 1), np.int32)
            padded[: len(chunk)] = chunk
            total += float(eval_loss(params, jnp.asarray(padded), len(chunk)))
        losses[name] = total / (len(seqs) * seq_len)
    diverged = diverged or any(not math.isfinite(v) for v in losses.values())
    return TrainResult(losses, train_loss, steps, steps * cfg.batch_size * seq_len, seconds, compile_s, diverged)
