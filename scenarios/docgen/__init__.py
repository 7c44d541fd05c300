"""Synthetic-document generation (scenarios/make_documents.py): stages, filter, simulated writer."""
