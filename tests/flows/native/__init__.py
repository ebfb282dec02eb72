"""The native engine against the official artefacts: rule modules, differential suite, proof."""
