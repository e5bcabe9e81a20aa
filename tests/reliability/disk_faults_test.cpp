// Disk faults: a full disk or an unwritable output folder.
