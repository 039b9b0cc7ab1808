"""The checkpointed steps of a generation, one module per stage. Each step's result is recorded by DBOS, so after a
crash the workflow resumes past the steps that finished — above all the submission, which creates (and pays for)
the provider task at most once.

Steps catch the errors a person can act on (`Veo31Error`), record the generation as failed with that reason,
and return a value that tells the workflow to stop. Each step first re-reads the generation: one that was
canceled (or already ended) meanwhile is left alone. A step's name is its function's name: it must not change
once it has run anywhere (DBOS matches recorded results by it).
"""
