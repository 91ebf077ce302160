"""What several test modules share: fakes, made-up media, and ways to drive the CLI, the app and a browser."""
