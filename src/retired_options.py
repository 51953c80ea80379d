"""Options that no longer exist, and how a configuration saved with them is read.

Until ``loss.terms`` existed the objective was chosen by flags: ``loss.vsd``, ``loss.vcd`` and
``loss.vml`` switched those terms on and ``loss.beta`` weighed all three; ``loss.dml_weight``,
``loss.metric_weight`` and ``loss.cib_weight`` weighed DML, the metric loss and the conventional
IB's compression term; the cross-entropy weighed 1; ``loss.metric: none`` dropped the metric
loss; ``loss.cib`` added the compression term, dropped DML and kept the cross-entropy and the
metric loss on z only. The terms were summed in the order cls, metric, dml, vsd, vcd, vml, cib.

Every config.yaml saved then holds all those flags but ``cib_weight`` (added on 2026-12-04), so
it is read as the ``loss.terms``, ``loss.cls_on`` and ``loss.metric_on`` that build the same
objective in the same order. A preset naming only some of them cannot be read that way (what it
leaves out would come from presets that now say ``loss.terms``): ``src.config`` refuses it with
``HOW_TO_WRITE``.
"""

RETIRED_LOSS_KEYS = ("vsd", "vcd", "vml", "beta", "dml_weight", "metric_weight", "cib", "cib_weight")
# The loss keys every config.yaml saved with the flags holds.
_SAVED_WITH_FLAGS = ("vsd", "vcd", "vml", "beta", "dml_weight", "metric_weight", "cib", "metric")
_NO_METRIC = "none"

HOW_TO_WRITE = ("the objective is now loss.terms, an ordered mapping term -> weight (the defaults: "
                "{cls: 1.0, metric: 1.0, dml: 8.0, vsd: 2.0, vcd: 2.0, vml: 2.0}; the conventional IB of "
                "Table 3 rows 7-9: terms {cls, metric, cib: 2.0} with cls_on [z] and metric_on [z]); "
                "see default_config.yaml")


def retired_loss_keys(loss):
    """The retired keys of a ``loss`` section (a dict), in ``RETIRED_LOSS_KEYS`` order."""
    return [key for key in RETIRED_LOSS_KEYS if key in loss]


def saved_with_flags(loss):
    """Whether a ``loss`` section holds every flag a config.yaml of that time saved."""
    return all(key in loss for key in _SAVED_WITH_FLAGS)


def loss_section_from_flags(loss, branches=("shared", "specific")):
    """The ``loss`` section (a new dict) that builds the objective the flag-style section ``loss``
    (one for which ``saved_with_flags`` holds) built on a network of ``branches`` (the saved
    ``model.branches``); its other keys are kept as they are."""
    conventional_ib = loss["cib"]
    terms = {"cls": 1.0}
    if loss["metric"] != _NO_METRIC:
        terms["metric"] = loss["metric_weight"]
    # DML was built only between a shared and a specific branch, so a network without both had
    # none: left out, as the Table 3 rows of such networks now write their terms.
    if not conventional_ib and {"shared", "specific"} <= set(branches):
        terms["dml"] = loss["dml_weight"]
    for name in ("vsd", "vcd", "vml"):
        if loss[name]:
            terms[name] = loss["beta"]
    if conventional_ib:
        # Until loss.cib_weight existed, beta weighed the compression term too.
        terms["cib"] = loss.get("cib_weight", loss["beta"])
    # With no metric loss, its kind meant nothing: the default takes the place of "none".
    kept = {key: value for key, value in loss.items()
            if key not in RETIRED_LOSS_KEYS and (key, value) != ("metric", _NO_METRIC)}
    features = ["z"] if conventional_ib else ["v", "z"]
    return {"terms": terms, **kept, "cls_on": features, "metric_on": list(features)}
