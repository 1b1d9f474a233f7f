"""The experiments: one module per paper figure (and the atlas, the theory, the convolution
study, the report), each config → runs → summary → plot."""
