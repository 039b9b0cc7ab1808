"""veo31: product videos with Veo 3.1 — Kie.ai, Google or offline — tracked from request to a verified MP4.

Importing the package starts nothing and reads no environment.
"""

__version__ = "0.1.0"
