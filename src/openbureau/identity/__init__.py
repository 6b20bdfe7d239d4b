"""Identity matching: normalisation, blocking keys, comparisons, Fellegi-Sunter model (fitted
with Splink, scored in pure Python), guarded batch resolution.

Online path (no Splink / DuckDB import)::

    from openbureau.identity.normalize import normalize_record
    from openbureau.identity.blocking import blocking_keys
    from openbureau.identity.model import IdentityModel

    model = IdentityModel.load("identity-model.json")
    rec = normalize_record(raw)
    keys = blocking_keys(rec)            # the core HMACs these and looks up candidates
    ranked = model.score_candidates(rec, candidate_records)

Batch path::

    from openbureau.identity.batch import resolve
    result = resolve(records_frame)      # clusters, review_pairs, flagged_clusters, model

Submodules are imported lazily so that the online path stays light.
"""
