"""`tokopt calibrate`: the factors of an approximate model observed on your own requests.

Given requests together with what the provider reported for them (`sources`), each request is
counted as `estimate` counts it, split into the part the factors scale (its text, counted with
o200k_base, and the content classes of that text) and the part they do not (per-message
overhead, tool prompts, images); the factors that best explain the reported counts are fitted
per model and content class (`fit`), and written to a pricing file with `--write` (`write`).
Nothing is sent anywhere: the provider's figures come from files the user already has.
"""
