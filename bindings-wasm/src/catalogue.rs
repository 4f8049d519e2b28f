//! `Admin`: batches, courses and custom field definitions (T11, T12).

use crate::admin::{Admin, page};
use crate::convert::{JsResult, error, from_js, id, ids, opt_text, out};
use roster::json;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
impl Admin {
    /// Creates a batch: `{name}`.
    #[wasm_bindgen(js_name = createBatch, unchecked_return_type = "Batch")]
    pub fn create_batch(
        &self,
        #[wasm_bindgen(unchecked_param_type = "BatchInput")] input: JsValue,
    ) -> JsResult<JsValue> {
        out(
            self.0
                .create_batch(json::batch_input(from_js(input)?).map_err(error)?),
            |b| json::batch(&b),
        )
    }

    /// Ordinary batches, filtered by a substring of the name.
    #[wasm_bindgen(js_name = listBatches, unchecked_return_type = "Page<Batch>")]
    pub fn list_batches(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string | null | undefined")] search: JsValue,
        #[wasm_bindgen(js_name = which, unchecked_optional_param_type = "PageArg")] which: JsValue,
    ) -> JsResult<JsValue> {
        let search = opt_text(&search, "search")?;
        out(self.0.list_batches(search.as_deref(), page(which)?), |p| {
            json::page(&p, json::batch)
        })
    }

    /// Batch `id`.
    #[wasm_bindgen(js_name = getBatch, unchecked_return_type = "Batch")]
    pub fn get_batch(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] batch: JsValue,
    ) -> JsResult<JsValue> {
        out(self.0.get_batch(id(&batch, "batch")?), |b| json::batch(&b))
    }

    /// Renames batch `id`.
    #[wasm_bindgen(js_name = updateBatch, unchecked_return_type = "Batch")]
    pub fn update_batch(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] batch: JsValue,
        #[wasm_bindgen(unchecked_param_type = "BatchInput")] input: JsValue,
    ) -> JsResult<JsValue> {
        out(
            self.0.update_batch(
                id(&batch, "batch")?,
                json::batch_input(from_js(input)?).map_err(error)?,
            ),
            |b| json::batch(&b),
        )
    }

    /// Deletes batch `id` and its memberships.
    #[wasm_bindgen(js_name = deleteBatch)]
    pub fn delete_batch(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] batch: JsValue,
    ) -> JsResult<()> {
        self.0.delete_batch(id(&batch, "batch")?).map_err(error)
    }

    /// Creates a course and its hidden batch.
    #[wasm_bindgen(js_name = createCourse, unchecked_return_type = "Course")]
    pub fn create_course(
        &self,
        #[wasm_bindgen(unchecked_param_type = "CourseInput")] input: JsValue,
    ) -> JsResult<JsValue> {
        out(
            self.0
                .create_course(json::course_input(from_js(input)?).map_err(error)?),
            |c| json::course(&c),
        )
    }

    /// Courses, filtered by a substring of the title or slug.
    #[wasm_bindgen(js_name = listCourses, unchecked_return_type = "Page<Course>")]
    pub fn list_courses(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string | null | undefined")] q: JsValue,
        #[wasm_bindgen(js_name = which, unchecked_optional_param_type = "PageArg")] which: JsValue,
    ) -> JsResult<JsValue> {
        let q = opt_text(&q, "q")?;
        out(self.0.list_courses(q.as_deref(), page(which)?), |p| {
            json::page(&p, json::course)
        })
    }

    /// Course `id`.
    #[wasm_bindgen(js_name = getCourse, unchecked_return_type = "Course")]
    pub fn get_course(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] course: JsValue,
    ) -> JsResult<JsValue> {
        out(self.0.get_course(id(&course, "course")?), |c| {
            json::course(&c)
        })
    }

    /// Changes course `id`.
    #[wasm_bindgen(js_name = updateCourse, unchecked_return_type = "Course")]
    pub fn update_course(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] course: JsValue,
        #[wasm_bindgen(unchecked_param_type = "CourseInput")] input: JsValue,
    ) -> JsResult<JsValue> {
        out(
            self.0.update_course(
                id(&course, "course")?,
                json::course_input(from_js(input)?).map_err(error)?,
            ),
            |c| json::course(&c),
        )
    }

    /// Deletes course `id`, its direct grants and links.
    #[wasm_bindgen(js_name = deleteCourse)]
    pub fn delete_course(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] course: JsValue,
    ) -> JsResult<()> {
        self.0.delete_course(id(&course, "course")?).map_err(error)
    }

    /// The ordinary batches that give course `id`.
    #[wasm_bindgen(js_name = courseBatches, unchecked_return_type = "Page<Batch>")]
    pub fn course_batches(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] course: JsValue,
        #[wasm_bindgen(js_name = which, unchecked_optional_param_type = "PageArg")] which: JsValue,
    ) -> JsResult<JsValue> {
        out(
            self.0.course_batches(id(&course, "course")?, page(which)?),
            |p| json::page(&p, json::batch),
        )
    }

    /// Links batches to course `id`.
    #[wasm_bindgen(js_name = addCourseBatches, unchecked_return_type = "Page<Batch>")]
    pub fn add_course_batches(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] course: JsValue,
        #[wasm_bindgen(unchecked_param_type = "number[]")] batches: JsValue,
    ) -> JsResult<JsValue> {
        let course = id(&course, "course")?;
        out(
            self.0
                .add_course_batches(course, &ids(&batches, "batches")?),
            |p| json::page(&p, json::batch),
        )
    }

    /// Unlinks batches from course `id`.
    #[wasm_bindgen(js_name = removeCourseBatches)]
    pub fn remove_course_batches(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] course: JsValue,
        #[wasm_bindgen(unchecked_param_type = "number[]")] batches: JsValue,
    ) -> JsResult<()> {
        self.0
            .remove_course_batches(id(&course, "course")?, &ids(&batches, "batches")?)
            .map_err(error)
    }

    /// Defines a custom field: `{name, type, choices?, required?}`.
    #[wasm_bindgen(js_name = createCustomField, unchecked_return_type = "CustomField")]
    pub fn create_custom_field(
        &self,
        #[wasm_bindgen(unchecked_param_type = "CustomFieldInput")] input: JsValue,
    ) -> JsResult<JsValue> {
        out(
            self.0
                .create_custom_field(json::custom_field_input(from_js(input)?).map_err(error)?),
            |f| json::custom_field(&f),
        )
    }

    /// Every custom field definition.
    #[wasm_bindgen(js_name = listCustomFields, unchecked_return_type = "Page<CustomField>")]
    pub fn list_custom_fields(
        &self,
        #[wasm_bindgen(js_name = which, unchecked_optional_param_type = "PageArg")] which: JsValue,
    ) -> JsResult<JsValue> {
        out(self.0.list_custom_fields(page(which)?), |p| {
            json::page(&p, json::custom_field)
        })
    }

    /// Custom field definition `id`.
    #[wasm_bindgen(js_name = getCustomField, unchecked_return_type = "CustomField")]
    pub fn get_custom_field(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] field: JsValue,
    ) -> JsResult<JsValue> {
        out(self.0.get_custom_field(id(&field, "field")?), |f| {
            json::custom_field(&f)
        })
    }

    /// Changes custom field definition `id`.
    #[wasm_bindgen(js_name = updateCustomField, unchecked_return_type = "CustomField")]
    pub fn update_custom_field(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] field: JsValue,
        #[wasm_bindgen(unchecked_param_type = "CustomFieldInput")] input: JsValue,
    ) -> JsResult<JsValue> {
        out(
            self.0.update_custom_field(
                id(&field, "field")?,
                json::custom_field_input(from_js(input)?).map_err(error)?,
            ),
            |f| json::custom_field(&f),
        )
    }

    /// Deletes custom field definition `id` and every user's value of it.
    #[wasm_bindgen(js_name = deleteCustomField)]
    pub fn delete_custom_field(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] field: JsValue,
    ) -> JsResult<()> {
        self.0
            .delete_custom_field(id(&field, "field")?)
            .map_err(error)
    }
}
