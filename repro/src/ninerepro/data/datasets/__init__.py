"""Real speech datasets: download + atomic extraction, readers of their on-disk layouts, and the
filelists/manifests the subprojects train from. One module per dataset."""
