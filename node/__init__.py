"""The inference node: serves quantized models over HTTP and commits its results on-chain."""
