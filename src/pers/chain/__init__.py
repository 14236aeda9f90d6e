"""The chain side of settlement: pers's token contracts and how they are built."""
