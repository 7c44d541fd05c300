"""A real llama-server (llama.cpp) with a real small model, for the tests marked `realserver`."""
