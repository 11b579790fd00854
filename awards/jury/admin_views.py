from flask import Blueprint

bp = Blueprint("jury_admin", __name__, url_prefix="/admin/jury")
