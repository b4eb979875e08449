"""The ``google.cloud.tasks.v2.CloudTasks`` gRPC service over the store, via generic handlers.

Requests are deserialized with google-cloud-tasks' proto-plus types and answered with them,
so the wire format is the production client's own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
from google.cloud import tasks_v2
from google.protobuf import empty_pb2

from .dispatcher import Dispatcher
from .errors import RpcError
from .state import Store

SERVICE_NAME = "google.cloud.tasks.v2.CloudTasks"


def _pb(message: Any) -> Any:
    return type(message).pb(message)


class CloudTasksService:
    def __init__(self, store: Store, dispatcher: Dispatcher) -> None:
        self._store = store
        self._dispatcher = dispatcher

    def handler(self) -> grpc.GenericRpcHandler:
        queue, task = tasks_v2.Queue.serialize, tasks_v2.Task.serialize
        empty = empty_pb2.Empty.SerializeToString
        methods: dict[str, tuple[Callable[[Any], Any], Any, Callable[[Any], bytes]]] = {
            "CreateQueue": (self.create_queue, tasks_v2.CreateQueueRequest, queue),
            "GetQueue": (self.get_queue, tasks_v2.GetQueueRequest, queue),
            "UpdateQueue": (self.update_queue, tasks_v2.UpdateQueueRequest, queue),
            "ListQueues": (self.list_queues, tasks_v2.ListQueuesRequest,
                           tasks_v2.ListQueuesResponse.serialize),
            "DeleteQueue": (self.delete_queue, tasks_v2.DeleteQueueRequest, empty),
            "PauseQueue": (self.pause_queue, tasks_v2.PauseQueueRequest, queue),
            "ResumeQueue": (self.resume_queue, tasks_v2.ResumeQueueRequest, queue),
            "PurgeQueue": (self.purge_queue, tasks_v2.PurgeQueueRequest, queue),
            "CreateTask": (self.create_task, tasks_v2.CreateTaskRequest, task),
            "GetTask": (self.get_task, tasks_v2.GetTaskRequest, task),
            "DeleteTask": (self.delete_task, tasks_v2.DeleteTaskRequest, empty),
            "ListTasks": (self.list_tasks, tasks_v2.ListTasksRequest, tasks_v2.ListTasksResponse.serialize),
            "RunTask": (self.run_task, tasks_v2.RunTaskRequest, task),
        }
        return grpc.method_handlers_generic_handler(SERVICE_NAME, {
            name: grpc.unary_unary_rpc_method_handler(
                _aborting(method), request_deserializer=request_type.deserialize,
                response_serializer=serializer)
            for name, (method, request_type, serializer) in methods.items()
        })

    # -- queues ----------------------------------------------------------------------------
    def create_queue(self, request: tasks_v2.CreateQueueRequest) -> tasks_v2.Queue:
        return tasks_v2.Queue.wrap(self._store.create_queue(request.parent, _pb(request.queue)))

    def get_queue(self, request: tasks_v2.GetQueueRequest) -> tasks_v2.Queue:
        return tasks_v2.Queue.wrap(self._store.get_queue(request.name))

    def update_queue(self, request: tasks_v2.UpdateQueueRequest) -> tasks_v2.Queue:
        raw = _pb(request)
        return tasks_v2.Queue.wrap(self._store.update_queue(raw.queue, raw.update_mask))

    def list_queues(self, request: tasks_v2.ListQueuesRequest) -> tasks_v2.ListQueuesResponse:
        queues, token = self._store.list_queues(request.parent, request.filter, request.page_size,
                                                request.page_token)
        response = tasks_v2.ListQueuesResponse(next_page_token=token)
        _pb(response).queues.extend(queues)
        return response

    def delete_queue(self, request: tasks_v2.DeleteQueueRequest) -> empty_pb2.Empty:
        self._store.delete_queue(request.name)
        return empty_pb2.Empty()

    def pause_queue(self, request: tasks_v2.PauseQueueRequest) -> tasks_v2.Queue:
        return tasks_v2.Queue.wrap(self._store.set_paused(request.name, True))

    def resume_queue(self, request: tasks_v2.ResumeQueueRequest) -> tasks_v2.Queue:
        return tasks_v2.Queue.wrap(self._store.set_paused(request.name, False))

    def purge_queue(self, request: tasks_v2.PurgeQueueRequest) -> tasks_v2.Queue:
        return tasks_v2.Queue.wrap(self._store.purge_queue(request.name))

    # -- tasks -----------------------------------------------------------------------------
    def create_task(self, request: tasks_v2.CreateTaskRequest) -> tasks_v2.Task:
        raw = _pb(request)
        return tasks_v2.Task.wrap(self._store.create_task(raw.parent, raw.task, raw.response_view))

    def get_task(self, request: tasks_v2.GetTaskRequest) -> tasks_v2.Task:
        return tasks_v2.Task.wrap(self._store.get_task(request.name, _pb(request).response_view))

    def delete_task(self, request: tasks_v2.DeleteTaskRequest) -> empty_pb2.Empty:
        self._store.delete_task(request.name)
        return empty_pb2.Empty()

    def list_tasks(self, request: tasks_v2.ListTasksRequest) -> tasks_v2.ListTasksResponse:
        raw = _pb(request)
        tasks, token = self._store.list_tasks(raw.parent, raw.response_view, raw.page_size, raw.page_token)
        response = tasks_v2.ListTasksResponse(next_page_token=token)
        _pb(response).tasks.extend(tasks)
        return response

    def run_task(self, request: tasks_v2.RunTaskRequest) -> tasks_v2.Task:
        task, attempt = self._store.run_task(request.name, _pb(request).response_view)
        self._dispatcher.submit(attempt)
        return tasks_v2.Task.wrap(task)


def _aborting(method: Callable[[Any], Any]) -> Callable[[Any, grpc.ServicerContext], Any]:
    """Turn an RpcError from the store into the status code production would answer with."""

    def call(request: Any, context: grpc.ServicerContext) -> Any:
        try:
            return method(request)
        except RpcError as error:
            context.abort(error.code, error.message)

    return call
