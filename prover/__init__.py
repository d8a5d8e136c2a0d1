"""
Evidence for disputes: fraud-proof calldata for public layers (:mod:`prover.fraud`); the
zero-knowledge prover for sensitive partitions arrives with the proof-system work.
"""
