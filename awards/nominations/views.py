from flask import Blueprint

bp = Blueprint("nominations", __name__, url_prefix="/nominations")
