"""Galaxy roles and collections already on disk: where they are, and what a requirements
file names that is not installed. Nothing here downloads anything."""
