"""What every experiment shares: configs, the run store, records, provenance, progress,
plotting, learning-rate selection, the runner, the regression problems and runs, and the MNIST
convnet with its trainer."""
