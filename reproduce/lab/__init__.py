"""What every experiment shares: configs, the run store, records, provenance, progress,
plotting, learning-rate selection, the regression session and the MNIST convnet with its trainer."""
