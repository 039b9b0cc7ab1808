"""Provider clients behind one contract: `kie` today; `gemini` and `local` join through the same door."""
