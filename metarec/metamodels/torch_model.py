"""A neural meta-model: a small multi-output MLP over meta-features (needs ``pip install 'metarec[torch]'``).

One network predicts, for every learner at once,

- its relative score (score minus the dataset's best; a failed run counts as the dataset's worst score),
  which is what the learners are ranked by;
- its relative score where it ran (masked loss; an auxiliary target that regularises the network);
- the dataset's best score, which plus the relative score gives ``score``;
- the 10% and 90% quantiles of its score where it ran (pinball loss): ``[lower, upper]``.

Inputs are signed-log, standardised meta-features with 0/1 "was missing" columns. Training is
full-batch Adam with weight decay and dropout; a seeded 15% of the training datasets is held out for
early stopping (the weights of the best validation epoch are kept). ``n_models`` networks with
different seeds (and validation splits) are averaged. Everything is seeded: two fits with the same
``random_state`` give identical predictions. The defaults were chosen by leave-one-dataset-out on a
development half of LCDB's datasets (see :mod:`metarec.metamodels.lightgbm_model`).

``[lower, upper]`` is conformalized (``calibrate``): the base class's cross-conformal margin over 5 folds
of the training datasets (see :mod:`metarec.metamodels.base`) widens the quantile heads' interval, which
covered 76% of held-out scores for a nominal 80% (81% calibrated; 10-fold evaluation over LCDB's
datasets). The refits are the same model on 4/5 of the datasets; early stopping keeps each short, so a
calibrated fit costs about 3-5 uncalibrated ones, not 6 (``metarec evaluate -m torch --folds 10 --jobs 1``:
the torch folds took 27 s before, 71 s calibrated, on a shared 2-core machine). Five folds were kept, as for
the other models: cheaper variants (3 folds, one split, or the early-stopping validation sets, which
also chose the epoch and are seen by the other networks of the ensemble) would give a noisier or biased
margin for little saving.

A fitted model saves its networks' ``state_dict`` with ``torch.save`` and loads them with
``torch.load(..., weights_only=True)``; the rest is JSON.
"""

from __future__ import annotations

from pathlib import Path

from ..exceptions import MetarecError, require
from .base import MetaModel
from .preprocessing import Standardizer, fill_failed

STATE_FILE = "torch_state.pt"


def _torch():
    return require("torch", "torch")


def _build(n_in: int, n_out: int, hidden: int, dropout: float):
    torch = _torch()
    nn = torch.nn
    return nn.Sequential(
        nn.Linear(n_in, hidden),
        nn.GELU(),
        nn.Dropout(dropout),
        nn.Linear(hidden, hidden),
        nn.GELU(),
        nn.Dropout(dropout),
        nn.Linear(hidden, n_out),
    )


class TorchMetaModel(MetaModel):
    """Multi-output MLP predicting every learner's relative score, score and interval at once.

    Parameters
    ----------
    hidden : int
        Width of the two hidden layers.
    dropout : float
    weight_decay : float
    learning_rate : float
    max_epochs : int
    patience : int
        Epochs without a better validation loss before stopping.
    validation_fraction : float
        Share of the training datasets held out for early stopping.
    n_models : int
        Networks (different seeds) averaged.
    interval : float
    calibrate : bool
        Conformalize the interval: cross-conformal margin over 5 folds of the training datasets (see
        the module docstring).
    random_state : int
    """

    name = "torch"
    ranked_by = "predicted score"

    def __init__(
        self,
        hidden: int = 64,
        dropout: float = 0.2,
        weight_decay: float = 1e-2,
        learning_rate: float = 5e-3,
        max_epochs: int = 150,
        patience: int = 15,
        validation_fraction: float = 0.15,
        n_models: int = 2,
        interval: float = 0.8,
        calibrate: bool = True,
        random_state: int = 0,
    ):
        self.hidden = hidden
        self.dropout = dropout
        self.weight_decay = weight_decay
        self.learning_rate = learning_rate
        self.max_epochs = max_epochs
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.n_models = n_models
        self.interval = interval
        self.calibrate = calibrate
        self.random_state = random_state

    # -- fit -----------------------------------------------------------------------------------------
    def _fit(self, X, Y, observed=None) -> None:
        import numpy as np

        torch = _torch()
        A = X.to_numpy(dtype=float)
        S = Y.to_numpy(dtype=float)
        F = fill_failed(S, observed)
        best = np.nanmax(F, axis=1)
        R = F - best[:, None]
        Robs = S - best[:, None]
        self.scaler_ = Standardizer(indicators=True).fit(A)
        Z = self.scaler_.transform(A)
        L = S.shape[1]
        # standardise targets (per column) so that every head learns at a similar scale
        self.r_mean_, self.r_std_ = _moments(R)
        self.o_mean_, self.o_std_ = _moments(Robs)
        self.s_mean_, self.s_std_ = _moments(S)
        self.b_mean_, self.b_std_ = float(np.mean(best)), float(np.std(best) or 1.0)
        targets = {
            "r": (R - self.r_mean_) / self.r_std_,
            "o": (Robs - self.o_mean_) / self.o_std_,
            "s": (S - self.s_mean_) / self.s_std_,
            "b": ((best - self.b_mean_) / self.b_std_)[:, None],
        }
        self.n_inputs_ = int(Z.shape[1])
        self.n_outputs_ = 4 * L + 1
        alpha = (1.0 - float(self.interval)) / 2.0
        self.nets_ = []
        self.epochs_ = []
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            for i in range(max(1, int(self.n_models))):
                net, epoch = self._fit_one(Z, targets, L, alpha, int(self.random_state) * 1000 + i)
                self.nets_.append(net)
                self.epochs_.append(epoch)
        finally:
            torch.set_num_threads(threads)

    def _fit_one(self, Z, targets, L, alpha, seed):
        import numpy as np

        torch = _torch()
        torch.manual_seed(seed)
        rng = np.random.default_rng(seed)
        n = len(Z)
        n_val = int(round(float(self.validation_fraction) * n)) if n >= 10 else 0
        perm = rng.permutation(n)
        val, tr = perm[:n_val], perm[n_val:]

        def t(a):
            return torch.as_tensor(np.asarray(a, dtype=np.float32))

        Zt = t(Z)
        T = {k: t(np.nan_to_num(v, nan=0.0)) for k, v in targets.items()}
        M = {k: t(~np.isnan(v)) for k, v in targets.items()}
        net = _build(Z.shape[1], 4 * L + 1, int(self.hidden), float(self.dropout))
        opt = torch.optim.Adam(net.parameters(), lr=float(self.learning_rate), weight_decay=float(self.weight_decay))

        def loss_of(idx):
            out = net(Zt[idx])
            r, o, lo, hi, b = out[:, :L], out[:, L:2 * L], out[:, 2 * L:3 * L], out[:, 3 * L:4 * L], out[:, -1:]
            loss = _masked_mse(r, T["r"][idx], M["r"][idx]) + _masked_mse(o, T["o"][idx], M["o"][idx])
            loss = loss + _masked_mse(b, T["b"][idx], M["b"][idx])
            loss = loss + _pinball(lo, T["s"][idx], M["s"][idx], alpha) + _pinball(hi, T["s"][idx], M["s"][idx], 1 - alpha)
            return loss, _masked_mse(r, T["r"][idx], M["r"][idx])

        tr_idx = torch.as_tensor(tr, dtype=torch.long)
        val_idx = torch.as_tensor(val, dtype=torch.long)
        best_state, best_val, best_epoch, waited = None, float("inf"), 0, 0
        for epoch in range(int(self.max_epochs)):
            net.train()
            opt.zero_grad()
            loss, _ = loss_of(tr_idx)
            loss.backward()
            opt.step()
            if n_val:
                net.eval()
                with torch.no_grad():
                    vloss, _ = loss_of(val_idx)
                v = float(vloss)
                if v < best_val - 1e-6:
                    best_val, best_epoch, waited = v, epoch, 0
                    best_state = {k: p.detach().clone() for k, p in net.state_dict().items()}
                else:
                    waited += 1
                    if waited >= int(self.patience):
                        break
        if best_state is not None:
            net.load_state_dict(best_state)
        else:
            best_epoch = int(self.max_epochs) - 1
        net.eval()
        return net, int(best_epoch)

    # -- predict -------------------------------------------------------------------------------------
    def _predict(self, X) -> dict:
        import numpy as np

        torch = _torch()
        Z = torch.as_tensor(self.scaler_.transform(X.to_numpy(dtype=float)).astype(np.float32))
        L = len(self.learners_)
        with torch.no_grad():
            out = np.mean([net(Z).numpy().astype(float) for net in self.nets_], axis=0)
        r = out[:, :L] * self.r_std_ + self.r_mean_
        lo = out[:, 2 * L:3 * L] * self.s_std_ + self.s_mean_
        hi = out[:, 3 * L:4 * L] * self.s_std_ + self.s_mean_
        best = out[:, -1:] * self.b_std_ + self.b_mean_
        score = best + r  # expected score, a failure counting as the dataset's worst score
        return {"score": score, "lower": np.minimum(lo, hi), "upper": np.maximum(lo, hi), "preference": r}

    # -- persistence ---------------------------------------------------------------------------------
    def _get_state(self, directory: Path) -> dict:
        torch = _torch()
        tensors = {}
        for i, net in enumerate(self.nets_):
            for k, v in net.state_dict().items():
                tensors[f"{i}.{k}"] = v.detach().clone()
        torch.save(tensors, str(Path(directory) / STATE_FILE))
        return {
            "file": STATE_FILE,
            "n_inputs": self.n_inputs_,
            "n_outputs": self.n_outputs_,
            "n_nets": len(self.nets_),
            "epochs": self.epochs_,
            "scaler": self.scaler_.get_state(),
            "moments": {
                "r": [self.r_mean_.tolist(), self.r_std_.tolist()],
                "o": [self.o_mean_.tolist(), self.o_std_.tolist()],
                "s": [self.s_mean_.tolist(), self.s_std_.tolist()],
                "b": [self.b_mean_, self.b_std_],
            },
        }

    def _set_state(self, state: dict, directory: Path) -> None:
        import numpy as np

        torch = _torch()
        path = Path(directory) / state.get("file", STATE_FILE)
        if not path.is_file():
            raise MetarecError(f"{path}: model file missing")
        tensors = torch.load(str(path), map_location="cpu", weights_only=True)
        self.n_inputs_ = int(state["n_inputs"])
        self.n_outputs_ = int(state["n_outputs"])
        self.epochs_ = list(state.get("epochs", []))
        self.scaler_ = Standardizer.from_state(state["scaler"])
        self.nets_ = []
        for i in range(int(state["n_nets"])):
            net = _build(self.n_inputs_, self.n_outputs_, int(self.hidden), float(self.dropout))
            prefix = f"{i}."
            net.load_state_dict({k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)})
            net.eval()
            self.nets_.append(net)
        m = state["moments"]
        self.r_mean_, self.r_std_ = np.asarray(m["r"][0], dtype=float), np.asarray(m["r"][1], dtype=float)
        self.o_mean_, self.o_std_ = np.asarray(m["o"][0], dtype=float), np.asarray(m["o"][1], dtype=float)
        self.s_mean_, self.s_std_ = np.asarray(m["s"][0], dtype=float), np.asarray(m["s"][1], dtype=float)
        self.b_mean_, self.b_std_ = float(m["b"][0]), float(m["b"][1])


def _moments(T):
    import warnings

    import numpy as np

    with np.errstate(all="ignore"), warnings.catch_warnings():  # a learner with no score anywhere: NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(T, axis=0)
        std = np.nanstd(T, axis=0)
    mean = np.where(np.isfinite(mean), mean, 0.0)
    std = np.where(np.isfinite(std) & (std > 1e-8), std, 1.0)
    return mean, std


def _masked_mse(pred, target, mask):
    m = mask.float()
    return ((pred - target) ** 2 * m).sum() / m.sum().clamp(min=1.0)


def _pinball(pred, target, mask, q):
    m = mask.float()
    diff = target - pred
    loss = (q * diff).clamp(min=0) + ((q - 1) * diff).clamp(min=0)
    return (loss * m).sum() / m.sum().clamp(min=1.0)
