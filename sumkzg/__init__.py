"""
SumKZG-ML: sumcheck + multilinear KZG proofs that a sensitive (private-weight) partition computed its
public output from its public input. The normative specification is docs/proof-system.md.
"""
