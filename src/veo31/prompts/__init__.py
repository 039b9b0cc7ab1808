"""Step 2: prompt writers — use-case templates today — producing a Veo prompt and a negative prompt."""
