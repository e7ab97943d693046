"""Adversarial robustness with TextAttack (in progress; not registered as a plugin yet).

So far: ``offline.import_textattack()`` imports TextAttack with no download and
without clobbering the user's HF_HOME, and ``wrapper.make_wrapper(predictor)``
sends TextAttack's queries through the run's shared Predictor (same attack
outcomes as the stock HuggingFaceModelWrapper, tested). The checks, recipes,
checkpointing and report section of issue 5 come next.
"""
