"""Text the API takes in: what every supported database can store and compare."""

# PostgreSQL refuses the NUL character in text, even in a search; refusing it in the request
# turns what would be a database error into a 422.
NO_NUL_CHARACTER = r"^[^\x00]*$"
