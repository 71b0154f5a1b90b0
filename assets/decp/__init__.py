"""DECP assets: downloads, raw files, staged records, SIRENE lookups, the contract model."""
