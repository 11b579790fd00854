"""The public stage of a call: a people's online vote or a public discussion of the works."""
