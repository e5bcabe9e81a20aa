// Bad input, swept: every entry point against a catalogue of broken files.
