"""The Optuna researcher's sidecar: one Optuna study, driven over stdin/stdout, one JSON object per line.

The harness (Sources/Harness/OptunaSidecar.swift) starts it with the interpreter of its managed environment
(~/.cache/autoresearch/optuna/venv, pinned in requirements.txt beside this file) and sends requests; each gets
exactly one answer line. An answer {"error": "..."} is a refused request; the process stays up.

  {"op":"init","space":{NAME: DIST, ...},"sampler":"tpe|cmaes|random|gp","seed":N,"direction":"minimize|maximize"}
      DIST: {"type":"float","low":a,"high":b,"log":bool} | {"type":"int",...} | {"type":"categorical","choices":[...]}
      -> {"ok":true,"trials":0}
  {"op":"tell","key":K,"params":{...},"value":x|null,"state":"complete|fail"[,"trial":n]}
      With "trial": the result of a trial this study asked for (study.tell). Without: an experiment it did not ask
      for (another researcher's, or a past one on resume), added with study.add_trial. A key already told is
      ignored, so telling the whole history again tells each experiment once.  -> {"ok":true,"told":bool,"trials":n}
  {"op":"ask"} -> {"trial":n,"params":{...}}
  {"op":"stats"} -> {"trials":n,"complete":c,"fail":f,"running":r,"keys":k}
"""
import json
import sys
import warnings

import optuna
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import TrialState

optuna.logging.set_verbosity(optuna.logging.ERROR)
warnings.filterwarnings("ignore")


class Sidecar:
    def __init__(self):
        self.study = None
        self.space = {}
        self.keys = set()

    def init(self, request):
        self.space = {name: distribution(name, d) for name, d in request["space"].items()}
        if not self.space:
            raise ValueError("the search space is empty")
        seed = int(request.get("seed", 0)) % (2**32)
        self.study = optuna.create_study(direction=request.get("direction", "minimize"),
                                         sampler=sampler(request.get("sampler", "tpe"), seed))
        self.keys = set()
        return {"ok": True, "trials": 0}

    def tell(self, request):
        study = self.require_study()
        key = str(request["key"])
        if key in self.keys:
            return {"ok": True, "told": False, "trials": len(study.trials)}
        state = TrialState.COMPLETE if request.get("state", "complete") == "complete" else TrialState.FAIL
        value = request.get("value")
        if state == TrialState.COMPLETE and value is None:
            raise ValueError("a complete trial needs a value")
        if "trial" in request:
            number = int(request["trial"])
            if state == TrialState.COMPLETE:
                study.tell(number, float(value))
            else:
                study.tell(number, state=TrialState.FAIL)
        else:
            params, distributions = {}, {}
            for name, raw in (request.get("params") or {}).items():
                d = self.space.get(name)
                if d is None:
                    continue
                v = fit(d, raw)
                if v is not None:
                    params[name], distributions[name] = v, d
            trial = optuna.trial.create_trial(
                params=params, distributions=distributions, state=state,
                value=float(value) if state == TrialState.COMPLETE else None)
            study.add_trial(trial)
        self.keys.add(key)
        return {"ok": True, "told": True, "trials": len(study.trials)}

    def ask(self, request):
        study = self.require_study()
        trial = study.ask(self.space)
        return {"trial": trial.number, "params": trial.params}

    def stats(self, request):
        trials = self.require_study().trials
        count = lambda s: sum(1 for t in trials if t.state == s)
        return {"trials": len(trials), "complete": count(TrialState.COMPLETE), "fail": count(TrialState.FAIL),
                "running": count(TrialState.RUNNING), "keys": len(self.keys)}

    def require_study(self):
        if self.study is None:
            raise ValueError("no study yet: send init first")
        return self.study


def distribution(name, d):
    kind = d.get("type")
    if kind == "float":
        return FloatDistribution(float(d["low"]), float(d["high"]), log=bool(d.get("log", False)))
    if kind == "int":
        return IntDistribution(int(d["low"]), int(d["high"]), log=bool(d.get("log", False)))
    if kind == "categorical":
        return CategoricalDistribution(list(d["choices"]))
    raise ValueError("%s: unknown distribution type %r" % (name, kind))


def fit(d, raw):
    """`raw` as a value of `d`, or None when it is not one (an experiment outside the space leaves that parameter out)."""
    if isinstance(d, CategoricalDistribution):
        return raw if raw in d.choices else None
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        return None
    if isinstance(d, IntDistribution):
        if raw != int(raw):
            return None
        raw = int(raw)
    return raw if d.low <= raw <= d.high else None


def sampler(name, seed):
    samplers = optuna.samplers
    if name == "tpe":
        return samplers.TPESampler(seed=seed)
    if name == "cmaes":
        return samplers.CmaEsSampler(seed=seed)
    if name == "random":
        return samplers.RandomSampler(seed=seed)
    if name == "gp":
        try:
            import scipy  # noqa: F401
            import torch  # noqa: F401
        except ImportError as error:
            raise ValueError("the gp sampler needs torch and scipy in the Optuna environment (%s): "
                             "install them with `%s -m pip install torch scipy`" % (error, sys.executable))
        return samplers.GPSampler(seed=seed)
    raise ValueError("unknown sampler %r; use tpe, cmaes, random or gp" % name)


def main():
    sidecar = Sidecar()
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            request = json.loads(line)
            handler = {"init": sidecar.init, "tell": sidecar.tell, "ask": sidecar.ask, "stats": sidecar.stats}.get(request.get("op"))
            if handler is None:
                raise ValueError("unknown op %r" % request.get("op"))
            answer = handler(request)
        except Exception as error:  # an answer, never a dead sidecar, for a bad request
            answer = {"error": "%s: %s" % (type(error).__name__, error)}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
